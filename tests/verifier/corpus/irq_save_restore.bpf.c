/* OK: interrupts are disabled around a counter update and enabled again before the exit. */
#include "irq_common.h"

__u64 hits;

SEC("tc")
int irq_save_restore(struct __sk_buff *skb)
{
	unsigned long flags;

	bpf_local_irq_save(&flags);
	hits++;
	bpf_local_irq_restore(&flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
