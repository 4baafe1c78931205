/* OK: bpf_get_task_stack() takes the task_struct of the tracepoint (ARG_PTR_TO_BTF_ID). */
#include "btf_kernel_types.h"

__u64 depth = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_task_stack, bool preempt, struct task_struct *prev)
{
	__u64 ips[8];
	long n = bpf_get_task_stack(prev, ips, sizeof(ips), 0);

	if (n > 0)
		depth = n / 8;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
