/* OK: bpf_tcp_sock() of a full socket, NULL-checked, and its fields read. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup_skb/egress")
int tcp_sock_fields(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct bpf_tcp_sock *tp;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	tp = bpf_tcp_sock(sk);
	if (!tp)
		return 1;
	return tp->snd_cwnd > 10 ? 1 : 0;
}
char LICENSE[] SEC("license") = "GPL";
