/* MISTAKE: the value of bpf_iter_num_next is read without checking it for NULL (the last call
 * of every iteration returns NULL). */
#include "kf_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_iter_num_deref_null(void *ctx)
{
	struct bpf_iter_num it;
	int v;

	bpf_iter_num_new(&it, 0, 3);
	v = *bpf_iter_num_next(&it);
	bpf_iter_num_destroy(&it);
	return v;
}

char LICENSE[] SEC("license") = "GPL";
