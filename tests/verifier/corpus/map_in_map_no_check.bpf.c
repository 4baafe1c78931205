/* MISTAKE: the inner map from an array of maps may be NULL. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); };
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps");
SEC("xdp")
int map_in_map_no_check(struct xdp_md *ctx)
{
	__u32 k = 0;
	void *in = bpf_map_lookup_elem(&outer, &k);
	__u64 *v = bpf_map_lookup_elem(in, &k);

	return v ? XDP_DROP : XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
