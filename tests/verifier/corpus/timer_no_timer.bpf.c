/* MISTAKE: bpf_timer_init on a map whose value has no struct bpf_timer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct plain { __u64 a; __u64 b; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct plain);
} plain_map SEC(".maps");

SEC("tc")
int timer_no_timer(void *ctx)
{
	__u32 key = 0;
	struct plain *p = bpf_map_lookup_elem(&plain_map, &key);

	if (!p)
		return 0;
	bpf_timer_init((struct bpf_timer *)p, &plain_map, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
