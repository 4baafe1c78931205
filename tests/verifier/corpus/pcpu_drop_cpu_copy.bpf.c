/* MISTAKE: one CPU's copy (from bpf_this_cpu_ptr) is freed as if it were the per-CPU object.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("tc")
int pcpu_drop_cpu_copy(struct __sk_buff *skb)
{
	struct stats percpu_kptr *p;
	struct stats *s;

	HOLDER(h);
	p = h->pc;
	if (!p)
		return 0;
	s = bpf_this_cpu_ptr(p);
	percpu_drop(s);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
