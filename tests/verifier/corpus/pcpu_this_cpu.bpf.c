/* OK: this CPU's copy of the stashed statistics is updated.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("tc")
int pcpu_this_cpu(struct __sk_buff *skb)
{
	struct stats percpu_kptr *p;
	struct stats *s;

	HOLDER(h);
	p = h->pc;
	if (!p)
		return 0;
	s = bpf_this_cpu_ptr(p);
	s->packets++;
	s->bytes += skb->len;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
