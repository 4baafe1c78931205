/* MISTAKE: the program exits with preemption disabled. */
#include "kf_common.h"

SEC("tc")
int kf_preempt_missing_enable(struct __sk_buff *skb)
{
	bpf_preempt_disable();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
