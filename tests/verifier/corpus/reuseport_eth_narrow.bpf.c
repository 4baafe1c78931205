/* MISTAKE: eth_protocol may not be read one byte at a time. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sk_reuseport")
int reuseport_eth_narrow(struct sk_reuseport_md *md)
{
	return *(volatile __u8 *)&md->eth_protocol == 8 ? SK_PASS : SK_DROP;
}
char LICENSE[] SEC("license") = "GPL";
