/* OK: integer arguments of a tp_btf program are scalars (preempt, prev_state). */
#include "btf_kernel_types.h"

__u64 preempted = 0;
__u64 states = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_tp_scalar_args, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	if (preempt)
		preempted++;
	states |= 1ULL << (prev_state & 63);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
