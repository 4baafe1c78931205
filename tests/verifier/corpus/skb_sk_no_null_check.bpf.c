/* MISTAKE: skb->sk may be NULL and is passed on without a check. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup_skb/egress")
int skb_sk_no_null_check(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	return sk->family == 2;
}
char LICENSE[] SEC("license") = "GPL";
