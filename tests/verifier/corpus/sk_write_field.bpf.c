/* MISTAKE: a socket pointer is read-only; the program writes its mark. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int sk_write_field(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;

	sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	sk->mark = 1;
	bpf_sk_release(sk);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
