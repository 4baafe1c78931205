/* MISTAKE: the key is passed by value instead of by address (a scalar where the helper wants a
 * pointer to the key). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int key_by_value(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex;

	return bpf_map_lookup_elem(&counts, (void *)(long)key) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
