/* Count packets per IP protocol (IPv4 and IPv6) in a hash map; pass every packet. */
#include "parsing.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);      /* IP protocol number (IPPROTO_*) */
	__type(value, __u64);    /* packets seen */
} proto_count SEC(".maps");

SEC("xdp")
int xdp_proto_count(struct xdp_md *ctx)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct ethhdr *eth;
	struct iphdr *ip;
	struct ipv6hdr *ip6;
	__u32 proto;
	__u64 one = 1, *count;

	switch (parse_ethhdr(&c, &eth)) {
	case ETH_P_IP:
		if (parse_iphdr(&c, &ip) < 0)
			return XDP_PASS;
		proto = ip->protocol;
		break;
	case ETH_P_IPV6:
		if (parse_ip6hdr(&c, &ip6) < 0)
			return XDP_PASS;
		proto = ip6->nexthdr;
		break;
	default:
		return XDP_PASS;
	}

	count = bpf_map_lookup_elem(&proto_count, &proto);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&proto_count, &proto, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
