/* MISTAKE: bpf_rcu_read_unlock without a bpf_rcu_read_lock before it. */
#include "kf_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_rcu_unmatched_unlock(void *ctx)
{
	bpf_rcu_read_unlock();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
