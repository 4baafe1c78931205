/* MISTAKE: a task_vma iterator checks the task for NULL but not the vma, and reads it. */
#include "btf_kernel_types.h"

__u64 size = 0;

SEC("iter/task_vma")
int btf_iter_vma_no_null(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;

	if (!ctx->task)
		return 0;
	size += vma->vm_end - vma->vm_start;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
