/* MISTAKE: bpf_sock_from_file() returns NULL for a file that is not a socket; the result is
 * read without a check. */
#include "btf_kernel_types.h"

__u64 type = 0;

SEC("iter/task_file")
int btf_sock_from_file_no_null(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct socket *sock;

	if (!file)
		return 0;
	sock = bpf_sock_from_file(file);
	type = sock->type;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
