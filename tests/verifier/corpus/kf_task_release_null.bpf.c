/* MISTAKE: bpf_task_from_pid may return NULL (KF_RET_NULL); releasing its result without a
 * check passes a possibly-NULL pointer. */
#include "kf_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_task_release_null(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
