/* MISTAKE: the result of bpf_skc_to_tcp_sock() is NULL for a socket that is not TCP, and it is
 * read without a check. */
#include "btf_kernel_types.h"

__u64 srtt = 0;

SEC("tp_btf/tcp_probe")
int BPF_PROG(btf_skc_to_tcp_sock_no_null, struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	srtt = tp->srtt_us >> 3;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
