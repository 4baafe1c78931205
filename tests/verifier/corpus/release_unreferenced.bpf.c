/* MISTAKE: skb->sk holds no reference, so it must not be released. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int release_unreferenced(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 0;
	bpf_sk_release(sk);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
