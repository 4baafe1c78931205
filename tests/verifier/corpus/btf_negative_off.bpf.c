/* MISTAKE: a load just before the task_struct a typed pointer points to. */
#include "btf_kernel_types.h"

__u64 junk = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_negative_off, bool preempt, struct task_struct *prev)
{
	junk = *(volatile __u64 *)((char *)prev - 8);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
