/* Deliberately wrong: dereferences a map value without the NULL check the verifier demands. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int bad(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *value = bpf_map_lookup_elem(&counts, &key);

	*value += 1; /* REJECTED HERE */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
