/* MISTAKE: the pointer given to bpf_timer_start is not the timer field of the value. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define CLOCK_MONOTONIC 1

struct elem { __u64 fired; struct bpf_timer t; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct elem);
} timers SEC(".maps");

SEC("tc")
int timer_misplaced(void *ctx)
{
	__u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return 0;
	bpf_timer_start((struct bpf_timer *)&e->fired, 1000, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
