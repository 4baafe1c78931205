/* OK: this CPU's copy of the stashed statistics is updated.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("tc")
int pcpu_this_cpu(struct __sk_buff *skb)
{
	THIS_CPU_STATS(s);
	s->packets++;
	s->bytes += skb->len;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
