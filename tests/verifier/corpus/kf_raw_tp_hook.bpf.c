/* MISTAKE: raw tracepoint programs have no kfunc hook of their own in Linux 6.18 (only the
 * kfuncs every program type may call): bpf_task_from_pid is for tracing (tp_btf), tc, xdp... */
#include "kf_common.h"

SEC("raw_tp/sys_enter")
int kf_raw_tp_task(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
