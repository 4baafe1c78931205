/* OK: a tp_btf program is a tracing program, whose kfunc hook holds bpf_task_from_pid. */
#include "kf_common.h"

SEC("tp_btf/sys_enter")
int kf_tp_btf_task(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
