/* MISTAKE: bpf_task_from_pid is registered for tracing, tc, XDP, cgroup and syscall programs,
 * not for socket filters. */
#include "kf_common.h"

SEC("socket")
int kf_task_not_allowed(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
