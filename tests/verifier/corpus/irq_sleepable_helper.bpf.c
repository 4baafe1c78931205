/* MISTAKE: a helper that may sleep is called with interrupts disabled. */
#include "irq_common.h"

SEC("syscall")
int irq_sleepable_helper(void *ctx)
{
	unsigned long flags;
	int data = 0;

	bpf_local_irq_save(&flags);
	bpf_copy_from_user(&data, sizeof(data), (void *)0);
	bpf_local_irq_restore(&flags);
	return data;
}

char LICENSE[] SEC("license") = "GPL";
