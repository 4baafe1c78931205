/* MISTAKE: a task reference acquired in each iteration of an iterator loop is kept only in
 * the last iteration's register: the others leak. */
#include "kf_common.h"

SEC("tc")
int kf_iter_num_leak_in_loop(struct __sk_buff *skb)
{
	struct task_struct *t = 0;
	int i;

	kf_for(i, 1, 4)
		t = bpf_task_from_pid(i);
	if (t)
		bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
