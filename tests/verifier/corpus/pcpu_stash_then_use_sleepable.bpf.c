/* MISTAKE: a sleepable program keeps using the per-CPU object it stashed, outside an RCU read
 * section: once stashed it may be freed at any time.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("syscall")
int pcpu_stash_then_use_sleepable(void *ctx)
{
	struct stats percpu_kptr *p;
	struct stats *s;

	HOLDER(h);
	STASH_NEW(h, p);
	s = bpf_this_cpu_ptr(p);
	return s->packets;
}

char LICENSE[] SEC("license") = "GPL";
