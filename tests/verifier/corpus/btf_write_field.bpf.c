/* MISTAKE: a store through a BTF-typed kernel pointer: tracing programs may only read. */
#include "btf_kernel_types.h"

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_write_field, bool preempt, struct task_struct *prev)
{
	prev->pid = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
