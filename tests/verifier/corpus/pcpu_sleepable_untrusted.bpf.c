/* MISTAKE: in a sleepable program, a per-CPU kptr loaded outside an RCU read section is
 * untrusted: the helper refuses it.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("syscall")
int pcpu_sleepable_untrusted(void *ctx)
{
	struct stats percpu_kptr *p;
	struct stats *s;

	HOLDER(h);
	p = h->pc;
	if (!p)
		return 0;
	s = bpf_this_cpu_ptr(p);
	return s->packets;
}

char LICENSE[] SEC("license") = "GPL";
