/* MISTAKE: a timer callback must return 0. */
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

static int on_timer(void *map, __u32 *key, struct elem *e)
{
	e->fired++;
	return 1;
}

SEC("tc")
int timer_cb_bad_return(void *ctx)
{
	__u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return 0;
	bpf_timer_init(&e->t, &timers, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&e->t, on_timer);
	bpf_timer_start(&e->t, 1000, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
