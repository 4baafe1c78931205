/* OK: a global function that cannot sleep is called with interrupts disabled. */
#include "irq_common.h"

__u64 hits;

__attribute__((noinline)) int count_hit(int n)
{
	hits += n;
	return 0;
}

SEC("tc")
int irq_global_call(struct __sk_buff *skb)
{
	unsigned long flags;

	bpf_local_irq_save(&flags);
	count_hit(1);
	bpf_local_irq_restore(&flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
