/* A bpf_loop() callback's frame counts on top of its caller's: 192 + 256 bytes fit in 512. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static int fill_small(__u32 i, void *ctx)
{
	volatile char buf[256];

	buf[i & 255] = (char)i;
	return buf[(i + 1) & 255] == 0;
}

SEC("xdp")
int callback_stack_fits(struct xdp_md *ctx)
{
	volatile char mine[192];

	mine[ctx->ingress_ifindex & 127] = 1;
	bpf_loop(4, fill_small, 0, 0);
	return mine[3] ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
