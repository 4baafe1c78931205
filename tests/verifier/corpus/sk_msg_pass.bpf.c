/* OK: an sk_msg program bounds-checks its data and redirects by a map key. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} socks SEC(".maps");
SEC("sk_msg")
int sk_msg_pass(struct sk_msg_md *msg)
{
	void *data = msg->data, *end = msg->data_end;
	__u32 key = msg->local_port;

	if (data + 4 > end)
		return SK_PASS;
	if (*(__u8 *)data == 'x')
		return bpf_msg_redirect_hash(msg, &socks, &key, BPF_F_INGRESS);
	return SK_PASS;
}
char LICENSE[] SEC("license") = "GPL";
