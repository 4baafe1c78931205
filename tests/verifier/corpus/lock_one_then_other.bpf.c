/* OK: two map values are locked one after the other, each released before the next is taken. */
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
int lock_one_then_other(struct __sk_buff *skb)
{
	__u32 k1 = 0, k2 = 1;
	struct val *a = bpf_map_lookup_elem(&locked, &k1);
	struct val *b = bpf_map_lookup_elem(&locked, &k2);

	if (!a || !b)
		return TC_ACT_OK;
	bpf_spin_lock(&a->lock);
	a->cnt++;
	bpf_spin_unlock(&a->lock);
	bpf_spin_lock(&b->lock);
	b->sum += skb->len;
	bpf_spin_unlock(&b->lock);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
