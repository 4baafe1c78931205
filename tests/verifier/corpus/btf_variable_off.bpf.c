/* MISTAKE: a typed kernel pointer indexed by a variable: only constant offsets are allowed. */
#include "btf_kernel_types.h"

__u64 junk = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_variable_off, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 i = bpf_get_prandom_u32() & 0xf;

	junk = ((volatile char *)prev->comm)[i];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
