/* OK: bpf_skc_to_tcp_sock() casts the tracepoint's socket; the result is checked for NULL
 * before tcp_sock fields are read. */
#include "btf_kernel_types.h"

__u64 srtt = 0;

SEC("tp_btf/tcp_probe")
int BPF_PROG(btf_skc_to_tcp_sock, struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	if (tp)
		srtt = tp->srtt_us >> 3;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
