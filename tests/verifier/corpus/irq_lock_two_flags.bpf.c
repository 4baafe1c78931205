/* MISTAKE: two locks taken with their own flags; the first lock is released with the second's
 * flag: the flags are restored out of order. */
#include "irq_common.h"

SEC("tc")
int irq_lock_two_flags(struct __sk_buff *skb)
{
	unsigned long fa, fb;

	LOCK_BOTH(a, fa, b, fb);
	a->count += b->count;
	bpf_res_spin_unlock_irqrestore(&b->lock, &fa);
	bpf_res_spin_unlock_irqrestore(&a->lock, &fb);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
