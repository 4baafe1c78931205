/* MISTAKE: a tail call with interrupts disabled: the next program would never enable them. */
#include "irq_common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} next_progs SEC(".maps");

SEC("tc")
int irq_tail_call(struct __sk_buff *skb)
{
	unsigned long flags;

	bpf_local_irq_save(&flags);
	bpf_tail_call(skb, &next_progs, 0);
	bpf_local_irq_restore(&flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
