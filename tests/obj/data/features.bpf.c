/* Uses features of several kernel releases: a ring buffer (5.8), bpf_for_each_map_elem (5.13),
 * bpf_loop (5.17); built with -mcpu=v4 its sign extensions are cpu v4 instructions (6.6). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct loop_ctx {
	__s64 sum;
};

static long add_index(__u32 index, void *data)
{
	struct loop_ctx *c = data;

	c->sum += (__s8)index;
	return 0;
}

static long add_value(void *map, __u32 *key, __u64 *value, void *data)
{
	struct loop_ctx *c = data;

	c->sum += (__s16)*value;
	return 0;
}

SEC("xdp")
int features(struct xdp_md *ctx)
{
	struct loop_ctx c = { .sum = 0 };
	__s64 *slot;

	bpf_loop(8, add_index, &c, 0);
	bpf_for_each_map_elem(&counts, add_value, &c, 0);
	slot = bpf_ringbuf_reserve(&events, sizeof(*slot), 0);
	if (!slot)
		return XDP_PASS;
	*slot = c.sum;
	bpf_ringbuf_submit(slot, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
