/* MISTAKE: bpf_obj_drop on the program's context. */
#include "ko_common.h"

SEC("tc")
int ko_drop_ctx(struct __sk_buff *skb)
{
	obj_drop(skb);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
