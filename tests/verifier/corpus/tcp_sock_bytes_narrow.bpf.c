/* MISTAKE: bytes_acked is a u64 of bpf_tcp_sock and must be read whole. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup_skb/egress")
int tcp_sock_bytes_narrow(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct bpf_tcp_sock *tp;

	if (!sk)
		return 1;
	tp = bpf_tcp_sock(sk);
	if (!tp)
		return 1;
	return *(volatile __u32 *)&tp->bytes_acked > 5;
}
char LICENSE[] SEC("license") = "GPL";
