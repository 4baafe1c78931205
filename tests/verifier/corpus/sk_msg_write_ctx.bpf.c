/* MISTAKE: the sk_msg context is read-only. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sk_msg")
int sk_msg_write_ctx(struct sk_msg_md *msg)
{
	msg->size = 0;
	return SK_PASS;
}
char LICENSE[] SEC("license") = "GPL";
