/* OK: bpf_task_from_pid acquires a task reference (or returns NULL); it is released with
 * bpf_task_release on the non-NULL path. */
#include "kf_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_task_from_pid(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return 0;
	bpf_task_release(t);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
