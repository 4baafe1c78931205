// SPDX-License-Identifier: GPL-2.0
/* Lesson 2: answer ICMP echo requests from XDP (swap addresses, turn the request into a reply,
 * send it back out with XDP_TX).  The section name is the tutorial's own, which libbpf cannot
 * type: pyproject.toml gives it `type = "xdp"`, as its loader does with bpf_program__set_type. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* <linux/icmp.h> pulls in <sys/socket.h> (glibc), which BPF code cannot include */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

__u64 echoes = 0;

static __always_inline void swap_macs(struct ethhdr *eth)
{
	unsigned char tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

SEC("xdp_icmp_echo")
int xdp_icmp_echo_prog(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct icmphdr *icmp;
	__u32 addr;
	__u32 csum;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_ICMP)
		return XDP_PASS;
	icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) > data_end || icmp->type != ICMP_ECHO)
		return XDP_PASS;

	swap_macs(eth);
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	icmp->type = ICMP_ECHOREPLY;
	/* RFC 1624 incremental update: the type byte went from 8 to 0 */
	csum = (__u32)icmp->checksum + bpf_htons(ICMP_ECHO << 8);
	icmp->checksum = (__u16)(csum + (csum >> 16));
	__sync_fetch_and_add(&echoes, 1);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
