/* MISTAKE: two locks taken with their own flags; the first lock is released with the second's
 * flag: the flags are restored out of order. */
#include "irq_common.h"

SEC("tc")
int irq_lock_two_flags(struct __sk_buff *skb)
{
	unsigned long fa, fb;

	GUARDED(a, 0);
	GUARDED(b, 1);
	if (bpf_res_spin_lock_irqsave(&a->lock, &fa))
		return 0;
	if (bpf_res_spin_lock_irqsave(&b->lock, &fb)) {
		bpf_res_spin_unlock_irqrestore(&a->lock, &fa);
		return 0;
	}
	a->count += b->count;
	bpf_res_spin_unlock_irqrestore(&b->lock, &fa);
	bpf_res_spin_unlock_irqrestore(&a->lock, &fb);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
