/* TC classifier: drop TCP and UDP packets to one destination port, chosen by the loader
 * before load through .rodata (skel->rodata->blocked_port); count what was dropped. */
#include <linux/pkt_cls.h>
#include "parsing.h"

const volatile __u16 blocked_port = 9;   /* the discard port unless the loader says otherwise */

__u64 dropped = 0;

SEC("tc")
int tc_port_filter(struct __sk_buff *skb)
{
	struct cursor c = {
		.pos = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
	};
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	struct tcphdr *tcp;
	int port;

	if (parse_ethhdr(&c, &eth) != ETH_P_IP)
		return TC_ACT_OK;
	switch (parse_iphdr(&c, &ip)) {
	case IPPROTO_UDP:
		port = parse_udphdr(&c, &udp);
		break;
	case IPPROTO_TCP:
		port = parse_tcphdr(&c, &tcp);
		break;
	default:
		return TC_ACT_OK;
	}
	if (port >= 0 && port == blocked_port) {
		__sync_fetch_and_add(&dropped, 1);
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
