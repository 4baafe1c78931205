/* OK: a sock_ops program adds established sockets to a sockhash. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} socks SEC(".maps");
SEC("sockops")
int sock_ops_hash_update(struct bpf_sock_ops *skops)
{
	__u32 key = skops->local_port;

	if (skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_sock_hash_update(skops, &socks, &key, BPF_NOEXIST);
	return 1;
}
char LICENSE[] SEC("license") = "GPL";
