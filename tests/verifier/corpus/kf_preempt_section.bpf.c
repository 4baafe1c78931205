/* OK: a bpf_preempt_disable/enable section. */
#include "kf_common.h"

SEC("xdp")
int kf_preempt_section(struct xdp_md *ctx)
{
	bpf_preempt_disable();
	bpf_preempt_enable();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
