/* MISTAKE: a legacy packet load (LD_ABS) inside a bpf_rcu_read_lock section. */
#include "kf_common.h"

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

SEC("socket")
int kf_rcu_ld_abs(struct __sk_buff *skb)
{
	int proto;

	bpf_rcu_read_lock();
	proto = load_byte(skb, 23);
	bpf_rcu_read_unlock();
	return proto;
}

char LICENSE[] SEC("license") = "GPL";
