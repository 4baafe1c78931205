/* MISTAKE: the global bpf_spin_lock is written directly instead of through bpf_spin_lock(). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct counter { __u64 packets; struct bpf_spin_lock lock; __u64 bytes; };

struct counter stats SEC(".data.stats") = {};

SEC("tc")
int lock_global_direct(struct __sk_buff *skb)
{
	*(volatile __u32 *)&stats.lock = 0;
	stats.packets++;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
