/* MISTAKE: the socket may be NULL and its field is read without a check. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int sk_lookup_no_null_check(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;
	int family;

	sk = bpf_sk_lookup_udp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
	family = sk->family;
	if (sk)
		bpf_sk_release(sk);
	return family;
}
char LICENSE[] SEC("license") = "GPL";
