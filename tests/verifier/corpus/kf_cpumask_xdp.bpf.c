/* MISTAKE: the cpumask kfuncs are registered for tracing, struct_ops and syscall programs only. */
#include "kf_cpumask.h"

SEC("xdp")
int kf_cpumask_xdp(struct xdp_md *ctx)
{
	struct bpf_cpumask *mask = bpf_cpumask_create();

	if (mask)
		bpf_cpumask_release(mask);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
