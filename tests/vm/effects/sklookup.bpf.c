// Socket lookups from tc: the peer 127.0.0.1:40000 reaching 127.0.0.1:port. Returns what the
// found socket says (its port, state and protocol), or 0 when there is none.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

volatile const __u16 port = 80;

static int describe(struct bpf_sock *sk)
{
	int r = sk->src_port | sk->state << 16 | sk->protocol << 24;

	bpf_sk_release(sk);
	return r;
}

/* the peer 127.0.0.1:40000 reaching 127.0.0.1:port */
static void loopback_tuple(struct bpf_sock_tuple *t)
{
	t->ipv4.saddr = bpf_htonl(0x7f000001);
	t->ipv4.daddr = bpf_htonl(0x7f000001);
	t->ipv4.sport = bpf_htons(40000);
	t->ipv4.dport = bpf_htons(port);
}

SEC("tc")
int find_tcp(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	loopback_tuple(&t);
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	return sk ? describe(sk) : 0;
}

SEC("tc")
int find_udp(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	loopback_tuple(&t);
	sk = bpf_sk_lookup_udp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	return sk ? describe(sk) : 0;
}

SEC("tc")
int bad_size(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	t.ipv4.dport = bpf_htons(port);
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4) + 4, BPF_F_CURRENT_NETNS, 0);
	return sk ? describe(sk) : 7;
}

char LICENSE[] SEC("license") = "GPL";
