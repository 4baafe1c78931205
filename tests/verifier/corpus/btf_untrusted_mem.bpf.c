/* OK: task->stack is a void pointer: loading it gives read-only untrusted memory, which may be
 * read (through a probe load). */
#include "btf_kernel_types.h"

__u64 first = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_untrusted_mem, bool preempt, struct task_struct *prev)
{
	first = *(volatile char *)prev->stack;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
