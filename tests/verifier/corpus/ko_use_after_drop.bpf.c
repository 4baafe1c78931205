/* MISTAKE: a field of the object is read after bpf_obj_drop. */
#include "ko_common.h"

SEC("tc")
int ko_use_after_drop(struct __sk_buff *skb)
{
	struct item *it = obj_new(struct item);

	if (!it)
		return 0;
	obj_drop(it);
	return it->val;
}

char LICENSE[] SEC("license") = "GPL";
