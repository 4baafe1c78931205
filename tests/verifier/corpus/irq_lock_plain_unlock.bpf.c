/* MISTAKE: a lock taken with bpf_res_spin_lock_irqsave is released by the plain unlock, which
 * would leave interrupts disabled. */
#include "irq_common.h"

SEC("tc")
int irq_lock_plain_unlock(struct __sk_buff *skb)
{
	unsigned long flags;

	GUARDED(g, 0);
	if (bpf_res_spin_lock_irqsave(&g->lock, &flags))
		return 0;
	g->count++;
	bpf_res_spin_unlock(&g->lock);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
