/* OK: a signed value checked on both sides (0 <= i < 8) indexes a global array. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 per_queue[8] = {};

SEC("xdp")
int signed_range_check(struct xdp_md *ctx)
{
	int q = (int)ctx->rx_queue_index - 1;

	if (q >= 0 && q < 8)
		per_queue[q]++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
