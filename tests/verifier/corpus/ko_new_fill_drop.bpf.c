/* allocated objects and casts: new fill drop. */
#include "ko_common.h"

SEC("tc")
int ko_new_fill_drop(struct __sk_buff *skb)
{
	struct item *it = obj_new(struct item);
	__u32 v;

	if (!it)
		return 0;
	it->key = skb->ifindex;
	it->val = skb->len;
	v = it->val + it->flags;
	obj_drop(it);
	return v;
}

char LICENSE[] SEC("license") = "GPL";
