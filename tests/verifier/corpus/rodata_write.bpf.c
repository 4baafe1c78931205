/* MISTAKE: const globals live in .rodata, which programs may not write. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 threshold = 100;

SEC("xdp")
int rodata_write(struct xdp_md *ctx)
{
	if (ctx->rx_queue_index > threshold)
		*(volatile __u32 *)&threshold = ctx->rx_queue_index;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
