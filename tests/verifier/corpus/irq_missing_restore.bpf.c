/* MISTAKE: an early return leaves interrupts disabled. */
#include "irq_common.h"

__u64 hits;

SEC("tc")
int irq_missing_restore(struct __sk_buff *skb)
{
	unsigned long flags;

	bpf_local_irq_save(&flags);
	if (skb->len > 1000)
		return 1;
	hits++;
	bpf_local_irq_restore(&flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
