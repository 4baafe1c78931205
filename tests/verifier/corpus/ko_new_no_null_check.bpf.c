/* MISTAKE: bpf_obj_new may return NULL; the object is written unchecked. */
#include "ko_common.h"

SEC("tc")
int ko_new_no_null_check(struct __sk_buff *skb)
{
	struct item *it = obj_new(struct item);

	it->key = 1;
	obj_drop(it);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
