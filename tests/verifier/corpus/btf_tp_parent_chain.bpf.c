/* OK: a chain of member walks, prev->real_parent->real_parent->tgid: each step gives an RCU
 * pointer the next load may go through. */
#include "btf_kernel_types.h"

__u32 grandparent = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_tp_parent_chain, bool preempt, struct task_struct *prev)
{
	grandparent = prev->real_parent->real_parent->tgid;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
