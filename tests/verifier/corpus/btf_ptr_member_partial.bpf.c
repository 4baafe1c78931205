/* MISTAKE: half of a pointer member is read (4 bytes of real_parent): pointer members must be
 * loaded whole. */
#include "btf_kernel_types.h"

__u32 low = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_ptr_member_partial, bool preempt, struct task_struct *prev)
{
	low = *(volatile __u32 *)&prev->real_parent;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
