/* OK: two locks with their own flags, released (and the flags restored) in the reverse order. */
#include "irq_common.h"

SEC("tc")
int irq_lock_nested_ok(struct __sk_buff *skb)
{
	unsigned long fa, fb;

	LOCK_BOTH(a, fa, b, fb);
	a->count += b->count;
	bpf_res_spin_unlock_irqrestore(&b->lock, &fb);
	bpf_res_spin_unlock_irqrestore(&a->lock, &fa);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
