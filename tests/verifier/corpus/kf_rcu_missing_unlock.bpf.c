/* MISTAKE: the program exits inside a bpf_rcu_read_lock section. */
#include "kf_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_rcu_missing_unlock(void *ctx)
{
	bpf_rcu_read_lock();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
