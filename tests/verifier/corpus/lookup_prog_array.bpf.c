/* MISTAKE: a program array can only be used with bpf_tail_call(), not looked up. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} jumps SEC(".maps");

SEC("xdp")
int lookup_prog_array(struct xdp_md *ctx)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&jumps, &key) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
