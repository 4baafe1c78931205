/* OK: an iterator prints a header once (meta->seq_num is a scalar) and then one line per task. */
#include "btf_kernel_types.h"

SEC("iter/task")
int btf_iter_meta_seq_num(struct bpf_iter__task *ctx)
{
	struct bpf_iter_meta *meta = ctx->meta;
	struct task_struct *task = ctx->task;

	if (meta->seq_num == 0)
		BPF_SEQ_PRINTF(meta->seq, "pid comm\n");
	if (task)
		BPF_SEQ_PRINTF(meta->seq, "%d %s\n", task->pid, task->comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
