/* MISTAKE: the same flag is saved twice; the first saved state would be lost. */
#include "irq_common.h"

SEC("tc")
int irq_double_save(struct __sk_buff *skb)
{
	unsigned long flags;

	bpf_local_irq_save(&flags);
	bpf_local_irq_save(&flags);
	bpf_local_irq_restore(&flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
