/* MISTAKE: arithmetic on a socket pointer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int sk_ptr_arith(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;
	int v;

	sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	v = *(volatile __u32 *)((char *)sk + (skb->len & 4));
	bpf_sk_release(sk);
	return v;
}
char LICENSE[] SEC("license") = "GPL";
