/* MISTAKE: a load 16 bytes into a 16-byte object. */
#include "ko_common.h"

SEC("tc")
int ko_read_past_struct(struct __sk_buff *skb)
{
	struct item *it = obj_new(struct item);
	int v;

	if (!it)
		return 0;
	v = *(int *)((char *)it + 16);
	obj_drop(it);
	return v;
}

char LICENSE[] SEC("license") = "GPL";
