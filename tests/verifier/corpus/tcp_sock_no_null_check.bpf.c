/* MISTAKE: bpf_tcp_sock() may return NULL and its result is used without a check. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup_skb/egress")
int tcp_sock_no_null_check(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct bpf_tcp_sock *tp;

	if (!sk)
		return 1;
	tp = bpf_tcp_sock(sk);
	return tp->snd_cwnd > 10 ? 1 : 0;
}
char LICENSE[] SEC("license") = "GPL";
