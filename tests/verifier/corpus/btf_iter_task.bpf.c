/* OK: a task iterator checks ctx->task for NULL (the end of the walk) before reading it, and
 * prints through the seq_file of its meta. */
#include "btf_kernel_types.h"

SEC("iter/task")
int btf_iter_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %d\n", task->pid, task->tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
