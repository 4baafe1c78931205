/* OK: two locks with their own flags, released (and the flags restored) in the reverse order. */
#include "irq_common.h"

SEC("tc")
int irq_lock_nested_ok(struct __sk_buff *skb)
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
	bpf_res_spin_unlock_irqrestore(&b->lock, &fb);
	bpf_res_spin_unlock_irqrestore(&a->lock, &fa);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
