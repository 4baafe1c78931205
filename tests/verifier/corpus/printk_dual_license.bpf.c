/* OK: bpf_printk() with a GPL-compatible license ("Dual BSD/GPL"). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int printk_dual_license(struct xdp_md *ctx)
{
	bpf_printk("packet on %d queue %d", ctx->ingress_ifindex, ctx->rx_queue_index);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
