/* MISTAKE: the object from bpf_obj_new is never dropped. */
#include "ko_common.h"

SEC("tc")
int ko_new_leak(struct __sk_buff *skb)
{
	struct item *it = obj_new(struct item);

	if (!it)
		return 0;
	it->key = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
