/* OK: max_entries of a hash map (struct bpf_htab) bounds the key the program builds. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map { __u32 max_entries; } __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u32);
} table SEC(".maps");

SEC("xdp")
int mapfield_hash(struct xdp_md *ctx)
{
	struct bpf_map *m = (struct bpf_map *)&table;
	__u32 key = ctx->rx_queue_index % m->max_entries, one = 1;

	bpf_map_update_elem(&table, &key, &one, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
