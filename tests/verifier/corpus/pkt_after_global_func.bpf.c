/* MISTAKE: a global function that may change packet data invalidates the packet pointers checked before the call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

__attribute__((noinline)) int grow(struct __sk_buff *skb)
{
	return bpf_skb_pull_data(skb, 64);
}
SEC("tc")
int pkt_after_global_func(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	if (data + 14 > end)
		return 0;
	grow(skb);
	return *(volatile __u8 *)(data + 12);
}
char LICENSE[] SEC("license") = "GPL";
