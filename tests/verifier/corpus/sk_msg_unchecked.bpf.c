/* MISTAKE: sk_msg data is read without comparing against data_end. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sk_msg")
int sk_msg_unchecked(struct sk_msg_md *msg)
{
	void *data = msg->data;

	return *(__u8 *)data == 'x' ? SK_DROP : SK_PASS;
}
char LICENSE[] SEC("license") = "GPL";
