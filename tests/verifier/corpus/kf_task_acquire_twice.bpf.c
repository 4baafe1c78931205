/* OK: a trusted task pointer (a reference from bpf_task_from_pid) may be acquired again with
 * bpf_task_acquire; each reference is released. */
#include "kf_common.h"

SEC("tc")
int kf_task_acquire_twice(struct __sk_buff *skb)
{
	struct task_struct *t, *again;

	t = bpf_task_from_pid(1);
	if (!t)
		return 0;
	again = bpf_task_acquire(t);
	if (again)
		bpf_task_release(again);
	bpf_task_release(t);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
