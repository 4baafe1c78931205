// XDP redirects the way AF_XDP and forwarding programs write them: an XSKMAP slot is
// checked with a lookup first, DEVMAP / CPUMAP redirects fall back to the action in the
// flags' low bits when the slot is empty.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} cpus SEC(".maps");

const volatile __u32 slot = 0;
const volatile __u64 fallback = XDP_PASS;

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
	__u32 index = ctx->rx_queue_index;

	if (bpf_map_lookup_elem(&xsks, &index))
		return bpf_redirect_map(&xsks, index, 0);
	return XDP_PASS;
}

SEC("xdp")
int dev_redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&ports, slot, fallback);
}

/* (programs cannot look a CPUMAP up: the verifier allows only bpf_redirect_map on it) */
SEC("xdp")
int cpu_redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&cpus, slot, fallback);
}

/* a DEVMAP lookup gives the slot's value (the ifindex), read-only */
SEC("xdp")
int dev_lookup(struct xdp_md *ctx)
{
	__u32 key = slot;
	__u32 *ifindex = bpf_map_lookup_elem(&ports, &key);

	if (!ifindex)
		return XDP_PASS;
	return *ifindex == 1 ? XDP_DROP : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
