/* MISTAKE: the outer flag is restored while the inner one, saved after it, is still saved. */
#include "irq_common.h"

__u64 hits;

SEC("tc")
int irq_restore_out_of_order(struct __sk_buff *skb)
{
	unsigned long outer, inner;

	bpf_local_irq_save(&outer);
	bpf_local_irq_save(&inner);
	hits++;
	bpf_local_irq_restore(&outer);
	bpf_local_irq_restore(&inner);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
