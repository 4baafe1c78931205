/* MISTAKE: the program reads a seventh argument of sched_switch, which has four. */
#include "btf_kernel_types.h"

__u64 v = 0;

SEC("tp_btf/sched_switch")
int btf_ctx_no_such_arg(__u64 *ctx)
{
	v = ((volatile __u64 *)ctx)[6];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
