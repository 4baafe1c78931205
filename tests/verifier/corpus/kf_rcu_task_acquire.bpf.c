/* OK: bpf_task_acquire (KF_RCU) inside an RCU section on a trusted task reference; the two
 * references are released after the section. */
#include "kf_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_rcu_task_acquire(void *ctx)
{
	struct task_struct *t, *again = 0;

	t = bpf_task_from_pid(1);
	if (!t)
		return 0;
	bpf_rcu_read_lock();
	again = bpf_task_acquire(t);
	bpf_rcu_read_unlock();
	if (again)
		bpf_task_release(again);
	bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
