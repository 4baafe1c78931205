/* OK: the 64-bit byte counters of bpf_tcp_sock read whole. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup_skb/egress")
int tcp_sock_bytes(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct bpf_tcp_sock *tp;

	if (!sk)
		return 1;
	tp = bpf_tcp_sock(sk);
	if (!tp)
		return 1;
	return tp->bytes_acked + tp->bytes_received > 5;
}
char LICENSE[] SEC("license") = "GPL";
