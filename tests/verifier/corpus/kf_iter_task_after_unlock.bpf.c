/* MISTAKE: a task iterator created inside a bpf_rcu_read_lock section is advanced after the
 * section ended: its tasks are no longer protected. */
#include "kf_common.h"

SEC("tp_btf/sched_process_exec")
int kf_iter_task_after_unlock(void *ctx)
{
	struct bpf_iter_task it;
	int n = 0;

	bpf_rcu_read_lock();
	bpf_iter_task_new(&it, 0, 0);
	bpf_rcu_read_unlock();
	while (bpf_iter_task_next(&it))
		n++;
	bpf_iter_task_destroy(&it);
	return n;
}

char LICENSE[] SEC("license") = "GPL";
