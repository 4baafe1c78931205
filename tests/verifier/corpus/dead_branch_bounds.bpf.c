/* OK: a branch impossible by the bounds (a masked value compared above its maximum) is never explored. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int dead_branch_bounds(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index & 7;
	if (q > 9) {
		void *p = 0;
		return *(volatile int *)p;
	}
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
