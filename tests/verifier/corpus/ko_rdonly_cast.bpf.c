/* allocated objects and casts: rdonly cast. */
#include "ko_common.h"

SEC("tc")
int ko_rdonly_cast(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct sk_buff *r = bpf_rdonly_cast(kskb, bpf_core_type_id_kernel(struct sk_buff));

	return r->len;
}

char LICENSE[] SEC("license") = "GPL";
