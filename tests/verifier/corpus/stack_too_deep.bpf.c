/* MISTAKE: each function's buffer fits in 512 bytes, but the chain of calls needs more stack
 * than the 512 bytes a BPF program has. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int inner(int x)
{
	volatile char buf[320];

	buf[x & 255] = 1;
	return buf[0];
}

static __attribute__((noinline)) int outer(int x)
{
	volatile char buf[256];

	buf[x & 255] = 2;
	return inner(x) + buf[1];
}

SEC("xdp")
int stack_too_deep(struct xdp_md *ctx)
{
	return outer(ctx->rx_queue_index) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
