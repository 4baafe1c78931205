/* MISTAKE: a flag that was never saved is restored. */
#include "irq_common.h"

SEC("tc")
int irq_restore_unsaved(struct __sk_buff *skb)
{
	unsigned long saved, other = 0;

	bpf_local_irq_save(&saved);
	bpf_local_irq_restore(&other);
	bpf_local_irq_restore(&saved);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
