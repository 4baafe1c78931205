/* MISTAKE: skb->sk is a sock_common; its mark is only readable on a full socket. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup_skb/egress")
int sk_common_mark(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 1;
	return sk->mark == 7;
}
char LICENSE[] SEC("license") = "GPL";
