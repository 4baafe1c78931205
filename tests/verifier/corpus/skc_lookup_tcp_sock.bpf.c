/* OK: bpf_skc_lookup_tcp, a bpf_tcp_sock cast of it, and the release through the lookup's pointer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int skc_lookup_tcp_sock(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;
	struct bpf_tcp_sock *tp;
	int v = 0;

	sk = bpf_skc_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	tp = bpf_tcp_sock(sk);
	if (tp)
		v = tp->snd_cwnd;
	bpf_sk_release(sk);
	return v & 1;
}
char LICENSE[] SEC("license") = "GPL";
