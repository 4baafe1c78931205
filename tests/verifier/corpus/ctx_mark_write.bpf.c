/* OK: a tc classifier may write skb->mark and skb->priority and read packet metadata. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int ctx_mark_write(struct __sk_buff *skb)
{
	if (skb->protocol == 0x0008 && skb->len > 100) {
		skb->mark = 0x42;
		skb->priority = skb->queue_mapping + 1;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
