/* MISTAKE: bpf_preempt_enable without a bpf_preempt_disable before it. */
#include "kf_common.h"

SEC("xdp")
int kf_preempt_unmatched(struct xdp_md *ctx)
{
	bpf_preempt_enable();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
