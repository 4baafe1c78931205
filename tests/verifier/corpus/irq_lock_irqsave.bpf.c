/* OK: a resilient lock taken with interrupts saved and disabled, released and restored. */
#include "irq_common.h"

SEC("tc")
int irq_lock_irqsave(struct __sk_buff *skb)
{
	unsigned long flags;

	GUARDED(g, 0);
	if (bpf_res_spin_lock_irqsave(&g->lock, &flags))
		return 0;
	g->count++;
	bpf_res_spin_unlock_irqrestore(&g->lock, &flags);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
