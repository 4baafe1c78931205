/* MISTAKE: skops->sk may be NULL and is dereferenced without a check. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sockops")
int sock_ops_sk_unchecked(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;

	return sk->family == 2;
}
char LICENSE[] SEC("license") = "GPL";
