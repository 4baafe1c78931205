/* OK: an sk_skb verdict program redirects by a key from the stack. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} sh SEC(".maps");
SEC("sk_skb/stream_verdict")
int sk_skb_redirect_hash(struct __sk_buff *skb)
{
	__u32 key = skb->remote_port;

	return bpf_sk_redirect_hash(skb, &sh, &key, 0);
}
char LICENSE[] SEC("license") = "GPL";
