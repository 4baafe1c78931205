/* MISTAKE: a cgroup skb ingress program must return 0 (drop) or 1 (allow). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/ingress")
int return_out_of_range(struct __sk_buff *skb)
{
	return skb->len > 1500 ? 2 : 1;
}

char LICENSE[] SEC("license") = "GPL";
