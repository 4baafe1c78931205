/* MISTAKE: bpf_cpumask_release takes a struct bpf_cpumask; a task reference is passed. */
#include "kf_cpumask.h"

SEC("tp_btf/sched_switch")
int kf_cpumask_wrong_type(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return 0;
	bpf_cpumask_release((struct bpf_cpumask *)t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
