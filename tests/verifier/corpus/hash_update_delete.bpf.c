/* OK: key and value built on the stack are passed to update and delete. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow { __u32 saddr; __u32 daddr; };

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow);
	__type(value, __u64);
} flows SEC(".maps");

SEC("xdp")
int hash_update_delete(struct xdp_md *ctx)
{
	struct flow f = { .saddr = ctx->ingress_ifindex, .daddr = ctx->rx_queue_index };
	__u64 now = bpf_ktime_get_ns();

	if (f.daddr == 0)
		bpf_map_delete_elem(&flows, &f);
	else
		bpf_map_update_elem(&flows, &f, &now, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
