/* OK: a bpf_spin_lock in a global variable (its own data section) guards a global counter. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct counter { __u64 packets; struct bpf_spin_lock lock; __u64 bytes; };

struct counter stats SEC(".data.stats") = {};

SEC("tc")
int lock_global(struct __sk_buff *skb)
{
	bpf_spin_lock(&stats.lock);
	stats.packets++;
	stats.bytes += skb->len;
	bpf_spin_unlock(&stats.lock);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
