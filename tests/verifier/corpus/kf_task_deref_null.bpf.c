/* MISTAKE: a field of the task bpf_task_from_pid returns is read before the NULL check. */
#include "kf_common.h"

SEC("tc")
int kf_task_deref_null(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid(1);
	int pid = t->pid;

	if (t)
		bpf_task_release(t);
	return pid;
}

char LICENSE[] SEC("license") = "GPL";
