/* OK: inside the locked region the program takes different branches; every path unlocks. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct val { int cnt; struct bpf_spin_lock lock; __u64 sum; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct val);
} locked SEC(".maps");

SEC("tc")
int lock_branches(struct __sk_buff *skb)
{
	__u32 key = skb->mark & 7;
	struct val *v = bpf_map_lookup_elem(&locked, &key);

	if (!v)
		return TC_ACT_OK;
	bpf_spin_lock(&v->lock);
	if (skb->len > 1000)
		v->cnt += 2;
	else if (skb->len > 100)
		v->cnt += 1;
	else
		v->sum += skb->len;
	bpf_spin_unlock(&v->lock);
	return v->cnt > 50 ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
