/* Packet parsing helpers shared by the programs in this folder.
 *
 * Each parse_* function checks the header against data_end before touching it (the verifier
 * insists), advances the cursor past it and returns the next protocol, or -1 when the packet is
 * too short.
 */
#ifndef PROGRAMS_PARSING_H
#define PROGRAMS_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct cursor {
	void *pos;
	void *end;
};

/* Ethernet header; returns the EtherType in host order (VLAN tags are not followed). */
static __always_inline int parse_ethhdr(struct cursor *c, struct ethhdr **eth)
{
	struct ethhdr *h = c->pos;

	if ((void *)(h + 1) > c->end)
		return -1;
	c->pos = h + 1;
	*eth = h;
	return bpf_ntohs(h->h_proto);
}

/* IPv4 header incl. options; returns the L4 protocol. */
static __always_inline int parse_iphdr(struct cursor *c, struct iphdr **ip)
{
	struct iphdr *h = c->pos;
	int len;

	if ((void *)(h + 1) > c->end)
		return -1;
	len = h->ihl * 4;
	if (len < (int)sizeof(*h))
		return -1;
	if (c->pos + len > c->end)
		return -1;
	c->pos += len;
	*ip = h;
	return h->protocol;
}

/* IPv6 fixed header (extension headers are not followed); returns the next header. */
static __always_inline int parse_ip6hdr(struct cursor *c, struct ipv6hdr **ip6)
{
	struct ipv6hdr *h = c->pos;

	if ((void *)(h + 1) > c->end)
		return -1;
	c->pos = h + 1;
	*ip6 = h;
	return h->nexthdr;
}

/* UDP header; returns the destination port in host order. */
static __always_inline int parse_udphdr(struct cursor *c, struct udphdr **udp)
{
	struct udphdr *h = c->pos;

	if ((void *)(h + 1) > c->end)
		return -1;
	c->pos = h + 1;
	*udp = h;
	return bpf_ntohs(h->dest);
}

/* TCP header incl. options; returns the destination port in host order. */
static __always_inline int parse_tcphdr(struct cursor *c, struct tcphdr **tcp)
{
	struct tcphdr *h = c->pos;
	int len;

	if ((void *)(h + 1) > c->end)
		return -1;
	len = h->doff * 4;
	if (len < (int)sizeof(*h))
		return -1;
	if (c->pos + len > c->end)
		return -1;
	c->pos += len;
	*tcp = h;
	return bpf_ntohs(h->dest);
}

#endif /* PROGRAMS_PARSING_H */
