/* MISTAKE: kprobe programs have their own kfunc set, without bpf_task_from_pid. */
#include "kf_common.h"

SEC("kprobe/do_nanosleep")
int kf_task_kprobe_not_allowed(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
