/* OK: an open-coded task iterator counts the processes into a global; its tasks are
 * RCU-protected pointers in a program that runs under RCU.  (A counter kept in a register and
 * then compared would be precise, and no two iterations would ever be equal.) */
#include "kf_common.h"

__u64 processes;

SEC("tp_btf/sched_process_exec")
int kf_iter_task_count(void *ctx)
{
	struct bpf_iter_task it;

	bpf_iter_task_new(&it, 0, 0);
	while (bpf_iter_task_next(&it))
		__sync_fetch_and_add(&processes, 1);
	bpf_iter_task_destroy(&it);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
