/* MISTAKE: the iterator is created and advanced but never destroyed: it holds a reference
 * that the program leaks at exit. */
#include "kf_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_iter_num_no_destroy(void *ctx)
{
	struct bpf_iter_num it;
	int *v, sum = 0;

	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it)))
		sum += *v;
	return sum;
}

char LICENSE[] SEC("license") = "GPL";
