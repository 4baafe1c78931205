/* A dispatcher that sums the first bytes of the packet in a bounded loop, then tail-calls the
 * handler for the packet's IP protocol through a program array (slot = IPPROTO_*).  Slots left
 * empty fall through to XDP_PASS. */
#include "parsing.h"

#define SUM_BYTES 16

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} handlers SEC(".maps");

__u32 checksum = 0;
__u64 udp_seen = 0;

SEC("xdp")
int xdp_udp_handler(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&udp_seen, 1);
	return XDP_DROP;
}

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	unsigned char *bytes = c.pos;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 sum = 0;
	int proto;

	for (int i = 0; i < SUM_BYTES; i++) {
		if ((void *)(bytes + i + 1) > c.end)
			break;
		sum += bytes[i];
	}
	checksum = sum;

	if (parse_ethhdr(&c, &eth) != ETH_P_IP)
		return XDP_PASS;
	proto = parse_iphdr(&c, &ip);
	if (proto < 0)
		return XDP_PASS;
	bpf_tail_call(ctx, &handlers, proto);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
