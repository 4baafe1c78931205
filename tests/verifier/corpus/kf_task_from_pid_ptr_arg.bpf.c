/* MISTAKE: bpf_task_from_pid takes a pid (a scalar); a pointer is passed. */
#include "kf_common.h"

SEC("tc")
int kf_task_from_pid_ptr_arg(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_task_from_pid((__s32)(long)skb);

	if (t)
		bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
