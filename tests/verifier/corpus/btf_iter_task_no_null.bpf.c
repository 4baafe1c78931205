/* MISTAKE: a task iterator reads ctx->task without checking it for NULL (it is NULL once the
 * walk is over). */
#include "btf_kernel_types.h"

__u64 last = 0;

SEC("iter/task")
int btf_iter_task_no_null(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	last = task->pid;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
