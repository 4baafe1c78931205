/* OK: bpf_get_current_task_btf() returns a trusted task_struct pointer: its fields are read
 * directly, here from a raw tracepoint. */
#include "btf_kernel_types.h"

__u64 seen = 0;

SEC("raw_tp/sys_enter")
int btf_current_task_btf(void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();

	seen = task->tgid + task->real_parent->pid;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
