/* OK: dst_port is read as 2 bytes and its ip addresses byte by byte. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int sk_dst_port_narrow(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;
	int v;

	sk = bpf_sk_lookup_tcp(skb, &tuple, sizeof(tuple.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	v = sk->dst_port + *((volatile __u8 *)&sk->dst_ip4 + 3) + *((volatile __u16 *)&sk->src_ip6[1] + 1);
	bpf_sk_release(sk);
	return v & 1;
}
char LICENSE[] SEC("license") = "GPL";
