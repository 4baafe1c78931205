/* OK: an open-coded number iterator (bpf_iter_num_new/next/destroy) sums 0..99; the verifier
 * explores the loop body until the iterator's states converge. */
#include "kf_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_iter_num_sum(void *ctx)
{
	int i, sum = 0;

	kf_for(i, 0, 100)
		sum += i;
	return sum > 1000;
}

char LICENSE[] SEC("license") = "GPL";
