/* MISTAKE: bpf_printk() (bpf_trace_printk) is GPL-only, but the license is MIT. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int gpl_helper_wrong_license(struct xdp_md *ctx)
{
	bpf_printk("packet on %d", ctx->ingress_ifindex);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "MIT";
