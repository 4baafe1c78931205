/* Test program for the kernel bridge: a typed hash map, a per-CPU array, .rodata and .bss. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair {
	__u32 a;
	__u16 b;
	char tag[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct pair);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

const volatile __u32 verdict = XDP_PASS;
__u32 seen = 0;

SEC("xdp")
int maps_prog(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *hit = bpf_map_lookup_elem(&hits, &key);
	struct pair *p;

	if (hit)
		*hit += 1;
	p = bpf_map_lookup_elem(&pairs, &key);
	if (p)
		seen = p->a;
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
