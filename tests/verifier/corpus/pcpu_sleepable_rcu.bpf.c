/* OK: in a sleepable program the per-CPU kptr is loaded and used inside an RCU read section.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("syscall")
int pcpu_sleepable_rcu(void *ctx)
{
	struct stats percpu_kptr *p;
	struct stats *s;
	int ret = 0;

	HOLDER(h);
	bpf_rcu_read_lock();
	p = h->pc;
	if (p) {
		s = bpf_this_cpu_ptr(p);
		ret = s->packets;
	}
	bpf_rcu_read_unlock();
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
