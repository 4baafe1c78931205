/* MISTAKE: bpf_sk_redirect_map needs a sockmap; an array is not one. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");
SEC("sk_skb/stream_verdict")
int sk_skb_redirect_wrong_map(struct __sk_buff *skb)
{
	return bpf_sk_redirect_map(skb, &arr, 0, 0);
}
char LICENSE[] SEC("license") = "GPL";
