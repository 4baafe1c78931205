/* MISTAKE: a program without a GPL-compatible license reads a kernel struct through a typed
 * pointer. */
#include "btf_kernel_types.h"

__u64 pid = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_non_gpl, bool preempt, struct task_struct *prev)
{
	pid = prev->pid;
	return 0;
}

char LICENSE[] SEC("license") = "Proprietary";
