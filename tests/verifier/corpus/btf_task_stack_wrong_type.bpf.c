/* MISTAKE: bpf_get_task_stack() is given an mm_struct where it wants a task_struct. */
#include "btf_kernel_types.h"

__u64 depth = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_task_stack_wrong_type, bool preempt, struct task_struct *prev)
{
	__u64 ips[8];

	depth = bpf_get_task_stack((struct task_struct *)prev->mm, ips, sizeof(ips), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
