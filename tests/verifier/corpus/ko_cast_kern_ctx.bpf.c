/* allocated objects and casts: cast kern ctx. */
#include "ko_common.h"

SEC("tc")
int ko_cast_kern_ctx(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);

	return kskb->len;
}

char LICENSE[] SEC("license") = "GPL";
