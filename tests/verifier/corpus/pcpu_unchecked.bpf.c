/* MISTAKE: the per-CPU kptr loaded from the map value may be NULL; it is used unchecked.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("tc")
int pcpu_unchecked(struct __sk_buff *skb)
{
	struct stats *s;

	HOLDER(h);
	s = bpf_this_cpu_ptr(h->pc);
	s->packets++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
