/* OK: msg->sk is a full socket (never NULL) whose family can be read. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sk_msg")
int sk_msg_sk_family(struct sk_msg_md *msg)
{
	struct bpf_sock *sk = msg->sk;

	return sk->family == 10 ? SK_DROP : SK_PASS;
}
char LICENSE[] SEC("license") = "GPL";
