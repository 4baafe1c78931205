/* MISTAKE: the task reference from bpf_task_from_pid is never released. */
#include "kf_common.h"

SEC("xdp")
int kf_task_leak(struct xdp_md *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return XDP_PASS;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
