/* OK: a static function saves the caller's flag, the caller restores it. */
#include "irq_common.h"

__u64 hits;

static __attribute__((noinline)) void disable_irqs(unsigned long *flags)
{
	bpf_local_irq_save(flags);
}

SEC("tc")
int irq_subprog_save(struct __sk_buff *skb)
{
	unsigned long flags;

	disable_irqs(&flags);
	hits++;
	bpf_local_irq_restore(&flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
