/* OK: an sk_skb stream verdict program reads the packet and redirects through a sockmap. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} sockmap SEC(".maps");
SEC("sk_skb/stream_verdict")
int sk_skb_verdict(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;

	if (data + 1 > end)
		return SK_PASS;
	return bpf_sk_redirect_map(skb, &sockmap, *(__u8 *)data & 3, 0);
}
char LICENSE[] SEC("license") = "GPL";
