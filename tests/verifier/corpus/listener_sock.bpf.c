/* OK: bpf_get_listener_sock of a full socket, NULL-checked. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int listener_sock(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 0;
	sk = bpf_get_listener_sock(sk);
	if (!sk)
		return 0;
	return sk->src_port == 80;
}
char LICENSE[] SEC("license") = "GPL";
