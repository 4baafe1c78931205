/* MISTAKE: bpf_spin_lock on a map whose value type has no struct bpf_spin_lock. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct plain { __u32 word; __u32 cnt; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct plain);
} nolock SEC(".maps");

SEC("tc")
int lock_no_lock_map(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct plain *v = bpf_map_lookup_elem(&nolock, &key);

	if (!v)
		return TC_ACT_OK;
	bpf_spin_lock((struct bpf_spin_lock *)&v->word);
	v->cnt++;
	bpf_spin_unlock((struct bpf_spin_lock *)&v->word);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
