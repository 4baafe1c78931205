/* MISTAKE: the context may only be read at constant offsets; indexing the cb[] array with a
 * value from the packet gives a variable offset into the context. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int ctx_variable_offset(struct __sk_buff *skb)
{
	__u32 i = skb->len & 3;

	return skb->cb[i] ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
