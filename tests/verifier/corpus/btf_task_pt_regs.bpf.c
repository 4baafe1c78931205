/* OK: bpf_task_pt_regs() gives the task's user registers as a typed pt_regs pointer. */
#include "btf_kernel_types.h"

__u64 user_ip = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_task_pt_regs, bool preempt, struct task_struct *prev)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);

	user_ip = regs->ip;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
