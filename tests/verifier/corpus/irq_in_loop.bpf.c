/* OK: each turn of a loop disables interrupts around its update and enables them again. */
#include "irq_common.h"

__u64 hits[16];

SEC("tc")
int irq_in_loop(struct __sk_buff *skb)
{
	unsigned long flags;
	int i;

	for (i = 0; i < 16; i++) {
		bpf_local_irq_save(&flags);
		if (skb->len > i)
			hits[i]++;
		bpf_local_irq_restore(&flags);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
