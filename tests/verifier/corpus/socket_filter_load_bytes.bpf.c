/* OK: a socket filter copies packet bytes to the stack with bpf_skb_load_bytes() and keeps
 * only IPv4 TCP packets. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int socket_filter_load_bytes(struct __sk_buff *skb)
{
	__u8 proto;

	if (skb->len < 34)
		return 0;
	if (bpf_skb_load_bytes(skb, 23, &proto, sizeof(proto)) < 0)
		return 0;
	return proto == 6 ? skb->len : 0;
}

char LICENSE[] SEC("license") = "GPL";
