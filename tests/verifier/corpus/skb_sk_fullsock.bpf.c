/* OK: skb->sk may be NULL; after the check bpf_sk_fullsock gives a full socket (or NULL). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup_skb/egress")
int skb_sk_fullsock(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	return sk->protocol == 6 ? 1 : 0;
}
char LICENSE[] SEC("license") = "GPL";
