/* OK: fields of a looked-up socket are read after the NULL check, then it is released. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int sk_lookup_field_read(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;
	__u32 port;

	sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	port = sk->src_port + sk->family + sk->protocol + sk->state;
	bpf_sk_release(sk);
	return port == 22 ? 2 : 0;
}
char LICENSE[] SEC("license") = "GPL";
