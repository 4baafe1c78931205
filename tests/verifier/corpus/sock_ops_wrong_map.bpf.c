/* MISTAKE: bpf_sock_map_update needs a sockmap, not a hash map. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} socks SEC(".maps");
SEC("sockops")
int sock_ops_wrong_map(struct bpf_sock_ops *skops)
{
	__u32 key = 0;

	bpf_sock_map_update(skops, &socks, &key, BPF_ANY);
	return 1;
}
char LICENSE[] SEC("license") = "GPL";
