/* OK: an sk_msg program applies its verdict to the next 100 bytes and corks. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sk_msg")
int sk_msg_apply_bytes(struct sk_msg_md *msg)
{
	bpf_msg_apply_bytes(msg, 100);
	bpf_msg_cork_bytes(msg, 10);
	return SK_PASS;
}
char LICENSE[] SEC("license") = "GPL";
