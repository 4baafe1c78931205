/* MISTAKE: the cpumask from bpf_cpumask_create is never released. */
#include "kf_cpumask.h"

SEC("tp_btf/sched_switch")
int kf_cpumask_leak(void *ctx)
{
	struct bpf_cpumask *mask = bpf_cpumask_create();

	if (!mask)
		return 0;
	bpf_cpumask_set_cpu(1, mask);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
