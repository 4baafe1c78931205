/* MISTAKE: a global function that may sleep (it copies from user memory) is called with
 * interrupts disabled. */
#include "irq_common.h"

__attribute__((noinline)) int read_user(int n)
{
	if (n)
		bpf_copy_from_user(&n, sizeof(n), (void *)0);
	return n;
}

SEC("syscall")
int irq_sleepable_global(void *ctx)
{
	unsigned long flags;

	bpf_local_irq_save(&flags);
	read_user(0);
	bpf_local_irq_restore(&flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
