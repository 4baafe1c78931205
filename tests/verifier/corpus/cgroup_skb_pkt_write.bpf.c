/* MISTAKE: cgroup skb programs may read packet data directly but not write it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/ingress")
int cgroup_skb_pkt_write(struct __sk_buff *skb)
{
	unsigned char *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if ((void *)(data + 1) > data_end)
		return 1;
	data[0] = 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
