/* OK: a tc program casts skb->sk with bpf_skc_to_tcp_sock() and reads the tcp_sock it gets. */
#include "btf_kernel_types.h"

__u64 cwnd = 0;

SEC("tc")
int btf_skc_tc(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct tcp_sock *tp;

	if (!sk)
		return 0;
	tp = bpf_skc_to_tcp_sock(sk);
	if (tp)
		cwnd = tp->snd_cwnd;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
