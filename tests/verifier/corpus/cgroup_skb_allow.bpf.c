/* OK: a cgroup skb egress filter counting bytes; returns 1 (allow) or 0 (drop). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 bytes = 0;

SEC("cgroup_skb/egress")
int cgroup_skb_allow(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&bytes, skb->len);
	return skb->len < 65536;
}

char LICENSE[] SEC("license") = "GPL";
