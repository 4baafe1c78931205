/* OK: next->mm is neither trusted nor RCU-protected: a plain ptr_mm_struct, still readable
 * (PROBE_MEM), and the embedded sched_entity is reached without a pointer. */
#include "btf_kernel_types.h"

__u64 vm = 0;
__u64 runtime = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_tp_mm_walk, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	vm = next->mm->total_vm;
	runtime = prev->se.sum_exec_runtime;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
