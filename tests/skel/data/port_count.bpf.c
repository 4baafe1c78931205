/* Test program for skeletons: XDP counting UDP packets per destination port in a hash map,
 * only for the port the loader chose before load through .rodata (watch_port); every packet
 * passes.  .bss counts every IPv4 UDP packet seen. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);       /* destination port, host order */
	__type(value, __u64);     /* packets */
} port_hits SEC(".maps");

const volatile __u16 watch_port = 0;
__u64 udp_seen = 0;

SEC("xdp")
int port_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp;
	__u64 one = 1, *hits;
	__u16 port;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	__sync_fetch_and_add(&udp_seen, 1);
	port = bpf_ntohs(udp->dest);
	if (port != watch_port)
		return XDP_PASS;
	hits = bpf_map_lookup_elem(&port_hits, &port);
	if (hits)
		__sync_fetch_and_add(hits, 1);
	else
		bpf_map_update_elem(&port_hits, &port, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
