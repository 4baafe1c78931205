/* MISTAKE: a tp_btf program writes into its context (the arguments are read-only). */
#include "btf_kernel_types.h"

SEC("tp_btf/sched_switch")
int btf_ctx_write(__u64 *ctx)
{
	((volatile __u64 *)ctx)[0] = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
