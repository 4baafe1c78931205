/* MISTAKE: a pointer argument of a tp_btf program is loaded with 4 bytes: pointer arguments
 * must be read as 8-byte slots. */
#include "btf_kernel_types.h"

__u32 low = 0;

SEC("tp_btf/sched_switch")
int btf_ctx_narrow_ptr(__u64 *ctx)
{
	low = *(volatile __u32 *)&ctx[1];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
