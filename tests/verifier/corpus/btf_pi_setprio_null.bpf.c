/* MISTAKE: sched_pi_setprio's pi_task argument may be NULL (the kernel's list of NULL-able
 * tracepoint arguments) and is read without a check. */
#include "btf_kernel_types.h"

__u64 prio_pid = 0;

SEC("tp_btf/sched_pi_setprio")
int BPF_PROG(btf_pi_setprio_null, struct task_struct *tsk, struct task_struct *pi_task)
{
	prio_pid = tsk->pid + pi_task->pid;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
