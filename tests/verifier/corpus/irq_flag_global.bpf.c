/* MISTAKE: the flag lives in a global variable; the kernel wants it on the stack. */
#include "irq_common.h"

unsigned long saved_flags;

SEC("tc")
int irq_flag_global(struct __sk_buff *skb)
{
	bpf_local_irq_save(&saved_flags);
	bpf_local_irq_restore(&saved_flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
