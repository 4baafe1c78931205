/* MISTAKE: the iterator's task, which may be NULL, is passed to bpf_get_task_stack() unchecked. */
#include "btf_kernel_types.h"

__u64 depth = 0;

SEC("iter/task")
int btf_iter_null_to_helper(struct bpf_iter__task *ctx)
{
	__u64 ips[4];

	depth = bpf_get_task_stack(ctx->task, ips, sizeof(ips), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
