/* MISTAKE: bpf_skb_store_bytes() exists for socket-buffer programs (tc); an XDP program may
 * not call it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int helper_not_allowed(struct xdp_md *ctx)
{
	__u8 byte = 0;

	bpf_skb_store_bytes((void *)ctx, 0, &byte, 1, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
