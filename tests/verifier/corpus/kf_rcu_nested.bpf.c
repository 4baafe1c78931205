/* MISTAKE: bpf_rcu_read_lock inside a bpf_rcu_read_lock section (Linux 6.18 does not nest
 * them). */
#include "kf_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_rcu_nested(void *ctx)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	bpf_rcu_read_unlock();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
