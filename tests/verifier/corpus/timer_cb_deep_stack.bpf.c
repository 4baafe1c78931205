/* MISTAKE: the timer callback and the function it calls need more than 512 bytes of stack together. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct elem { __u64 fired; struct bpf_timer t; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct elem);
} timers SEC(".maps");

static __attribute__((noinline)) __u64 mix(__u64 seed)
{
	char scratch[256];

	bpf_probe_read_kernel(scratch, sizeof(scratch), 0);
	return scratch[7] + seed;
}

static int on_timer(void *map, __u32 *key, struct elem *e)
{
	char buf[384];

	bpf_probe_read_kernel(buf, sizeof(buf), 0);
	e->fired = mix(buf[5]);
	return 0;
}

SEC("tc")
int timer_cb_deep_stack(void *ctx)
{
	__u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (!e)
		return 0;
	bpf_timer_init(&e->t, &timers, 1);
	bpf_timer_set_callback(&e->t, on_timer);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
