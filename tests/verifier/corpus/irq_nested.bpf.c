/* OK: two nested saves, restored in the reverse order. */
#include "irq_common.h"

__u64 hits;

SEC("tc")
int irq_nested(struct __sk_buff *skb)
{
	unsigned long outer, inner;

	bpf_local_irq_save(&outer);
	bpf_local_irq_save(&inner);
	hits++;
	bpf_local_irq_restore(&inner);
	bpf_local_irq_restore(&outer);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
