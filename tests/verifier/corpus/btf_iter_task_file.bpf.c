/* OK: a task_file iterator: both the task and the file may be NULL and are checked. */
#include "btf_kernel_types.h"

__u64 files = 0;

SEC("iter/task_file")
int btf_iter_task_file(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;

	if (!task || !file)
		return 0;
	if (ctx->fd > 2 && task->pid == task->tgid)
		files += file->f_flags & 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
