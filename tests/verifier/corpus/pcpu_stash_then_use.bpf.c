/* OK: where no per-CPU object is stashed yet, a new one is; once stashed, the program keeps
 * using it (within the RCU section every non-sleepable program runs in) on this CPU.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("tc")
int pcpu_stash_then_use(struct __sk_buff *skb)
{
	struct stats percpu_kptr *p, *old;
	struct stats *s;

	HOLDER(h);
	p = h->pc;
	if (!p) {
		p = percpu_new(struct stats);
		if (!p)
			return 0;
		old = bpf_kptr_xchg(&h->pc, p);
		if (old)
			percpu_drop(old);
	}
	s = bpf_this_cpu_ptr(p);
	s->packets++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
