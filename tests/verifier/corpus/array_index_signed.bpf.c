/* MISTAKE: a signed index is only checked from above; a negative value would reach memory
 * before the map value. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct slots { __u64 v[16]; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slots);
} table SEC(".maps");

SEC("xdp")
int array_index_signed(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = 0;
	int idx;
	struct slots *s;

	if (data + 4 > data_end)
		return XDP_PASS;
	idx = *(int *)data;
	if (idx >= 16)
		return XDP_DROP;
	s = bpf_map_lookup_elem(&table, &key);
	if (!s)
		return XDP_PASS;
	s->v[idx] += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
