/* MISTAKE: the saved flag is overwritten before it is restored. */
#include "irq_common.h"

SEC("tc")
int irq_flag_overwritten(struct __sk_buff *skb)
{
	volatile unsigned long flags;

	bpf_local_irq_save((unsigned long *)&flags);
	flags = skb->len;
	bpf_local_irq_restore((unsigned long *)&flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
