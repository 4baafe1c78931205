/* OK: a flow dissector fills its flow keys. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("flow_dissector")
int flow_dissector_keys(struct __sk_buff *skb)
{
	struct bpf_flow_keys *keys = skb->flow_keys;

	keys->nhoff = 0;
	keys->thoff = 14;
	keys->n_proto = bpf_htons(0x0800);
	return BPF_OK;
}
char LICENSE[] SEC("license") = "GPL";
