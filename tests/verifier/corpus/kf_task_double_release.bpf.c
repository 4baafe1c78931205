/* MISTAKE: the same task reference is released twice. */
#include "kf_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_task_double_release(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return 0;
	bpf_task_release(t);
	bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
