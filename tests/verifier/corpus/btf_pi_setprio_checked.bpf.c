/* OK: sched_pi_setprio's NULL-able pi_task argument is checked before it is read. */
#include "btf_kernel_types.h"

__u64 prio_pid = 0;

SEC("tp_btf/sched_pi_setprio")
int BPF_PROG(btf_pi_setprio_checked, struct task_struct *tsk, struct task_struct *pi_task)
{
	prio_pid = tsk->pid;
	if (pi_task)
		prio_pid += pi_task->pid;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
