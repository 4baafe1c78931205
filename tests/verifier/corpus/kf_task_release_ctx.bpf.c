/* MISTAKE: bpf_task_release is given the context pointer, not a task reference. */
#include "kf_common.h"

SEC("xdp")
int kf_task_release_ctx(struct xdp_md *ctx)
{
	bpf_task_release((struct task_struct *)ctx);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
