/* MISTAKE: a sleepable program keeps using the per-CPU object it stashed, outside an RCU read
 * section: once stashed it may be freed at any time.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("syscall")
int pcpu_stash_then_use_sleepable(void *ctx)
{
	struct stats percpu_kptr *p, *old;
	struct stats *s;

	HOLDER(h);
	p = percpu_new(struct stats);
	if (!p)
		return 0;
	old = bpf_kptr_xchg(&h->pc, p);
	if (old)
		percpu_drop(old);
	s = bpf_this_cpu_ptr(p);
	return s->packets;
}

char LICENSE[] SEC("license") = "GPL";
