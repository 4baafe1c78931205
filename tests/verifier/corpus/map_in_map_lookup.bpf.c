/* OK: an inner array found through an array of maps, each lookup NULL-checked. */
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
int map_in_map_lookup(struct xdp_md *ctx)
{
	__u32 k = 0;
	void *in = bpf_map_lookup_elem(&outer, &k);
	__u64 *v;

	if (!in)
		return XDP_PASS;
	v = bpf_map_lookup_elem(in, &k);
	if (!v)
		return XDP_PASS;
	*v += 1;
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
