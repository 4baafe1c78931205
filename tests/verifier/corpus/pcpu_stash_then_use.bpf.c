/* OK: where no per-CPU object is stashed yet, a new one is; once stashed, the program keeps
 * using it (within the RCU section every non-sleepable program runs in) on this CPU.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("tc")
int pcpu_stash_then_use(struct __sk_buff *skb)
{
	struct stats percpu_kptr *p;
	struct stats *s;

	HOLDER(h);
	p = h->pc;
	if (!p)
		STASH_NEW(h, p);
	s = bpf_this_cpu_ptr(p);
	s->packets++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
