/* MISTAKE: a bpf_loop() callback runs on top of its caller's frame: the caller's 320-byte buffer
 * and the callback's 256-byte one do not fit in 512 bytes together. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static int fill_big(__u32 i, void *ctx)
{
	volatile char buf[256];

	buf[i & 255] = (char)i;
	return buf[(i + 1) & 255] == 0;
}

SEC("xdp")
int callback_stack_too_deep(struct xdp_md *ctx)
{
	volatile char mine[320];

	mine[ctx->ingress_ifindex & 255] = 1;
	bpf_loop(4, fill_big, 0, 0);
	return mine[3] ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
