/* OK: a sock_ops program reads the TCP header through skb_data after a bounds check. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sockops")
int sock_ops_skb_data(struct bpf_sock_ops *skops)
{
	void *data = (void *)(long)skops->skb_data, *end = (void *)(long)skops->skb_data_end;

	if (data + 20 > end)
		return 1;
	skops->reply = *(__u8 *)(data + 13) + skops->skb_tcp_flags;
	return 1;
}
char LICENSE[] SEC("license") = "GPL";
