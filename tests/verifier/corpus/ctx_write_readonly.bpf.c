/* MISTAKE: skb->len is read-only for a tc classifier. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int ctx_write_readonly(struct __sk_buff *skb)
{
	skb->len = 64;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
