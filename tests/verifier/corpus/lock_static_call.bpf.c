/* OK: a static (bpf-to-bpf) function may be called while the lock is held. */
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

static __attribute__((noinline)) int bump(struct val *v, int by)
{
	v->cnt += by;
	return v->cnt;
}

SEC("tc")
int lock_static_call(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct val *v = bpf_map_lookup_elem(&locked, &key);
	int n;

	if (!v)
		return TC_ACT_OK;
	bpf_spin_lock(&v->lock);
	n = bump(v, skb->len & 7);
	bpf_spin_unlock(&v->lock);
	return n > 100 ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
