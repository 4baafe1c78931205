/* MISTAKE: the timer sits in a struct nested in the map value; bpf_timer_start is given the outer struct's start. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct slot { __u32 id; __u32 pad; struct bpf_timer t; };
struct elem { __u64 fired; struct slot s; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct elem);
} timers SEC(".maps");

SEC("tc")
int timer_nested(void *ctx)
{
	__u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return 0;
	bpf_timer_start((struct bpf_timer *)&e->s, 10, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
