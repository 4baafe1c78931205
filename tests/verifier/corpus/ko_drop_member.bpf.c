/* MISTAKE: bpf_obj_drop on a pointer into the object, not the object. */
#include "ko_common.h"

SEC("tc")
int ko_drop_member(struct __sk_buff *skb)
{
	struct item *it = obj_new(struct item);

	if (!it)
		return 0;
	obj_drop(&it->val);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
