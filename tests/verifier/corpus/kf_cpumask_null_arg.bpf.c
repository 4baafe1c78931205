/* MISTAKE: bpf_cpumask_set_cpu is given the result of bpf_cpumask_create before its NULL check. */
#include "kf_cpumask.h"

SEC("tp_btf/sched_switch")
int kf_cpumask_null_arg(void *ctx)
{
	struct bpf_cpumask *mask = bpf_cpumask_create();

	bpf_cpumask_set_cpu(0, mask);
	if (mask)
		bpf_cpumask_release(mask);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
