/* MISTAKE: kernel functions may be called only from GPL-compatible programs. */
#include "kf_common.h"

SEC("xdp")
int kf_non_gpl(struct xdp_md *ctx)
{
	bpf_preempt_disable();
	bpf_preempt_enable();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Proprietary";
