/* MISTAKE: the object is dropped twice. */
#include "ko_common.h"

SEC("tc")
int ko_drop_twice(struct __sk_buff *skb)
{
	struct item *it = obj_new(struct item);

	if (!it)
		return 0;
	obj_drop(it);
	obj_drop(it);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
