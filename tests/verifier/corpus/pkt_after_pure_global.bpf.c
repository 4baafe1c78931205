/* OK: a global function that does not touch the packet keeps the caller's packet pointers valid. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

__attribute__((noinline)) int pure(struct __sk_buff *skb)
{
	return skb->len > 100;
}
SEC("tc")
int pkt_after_pure_global(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	if (data + 14 > end)
		return 0;
	pure(skb);
	return *(volatile __u8 *)(data + 12);
}
char LICENSE[] SEC("license") = "GPL";
