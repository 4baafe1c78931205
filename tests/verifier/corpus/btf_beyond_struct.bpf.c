/* MISTAKE: a load far past the end of task_struct through a typed pointer. */
#include "btf_kernel_types.h"

__u64 junk = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_beyond_struct, bool preempt, struct task_struct *prev)
{
	junk = *(volatile __u64 *)((char *)prev + 100000);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
