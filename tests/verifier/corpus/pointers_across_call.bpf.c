/* OK: packet pointers kept in callee-saved registers (and spilled to the stack) across helper
 * calls stay valid: these helpers do not change the packet. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

__u64 sampled = 0;

SEC("xdp")
int pointers_across_call(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 r1, r2;

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	r1 = bpf_get_prandom_u32();
	r2 = bpf_get_prandom_u32();
	if ((r1 ^ r2) & 1)
		sampled += ip->tot_len + eth->h_proto + ctx->rx_queue_index;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
