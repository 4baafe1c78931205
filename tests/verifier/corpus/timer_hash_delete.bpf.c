/* OK: a per-flow timer in a hash map whose callback deletes its own element. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow { struct bpf_timer t; __u64 seen; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct flow);
} flows SEC(".maps");

static int expire(void *map, __u32 *key, struct flow *f)
{
	bpf_map_delete_elem(map, key);
	return 0;
}

SEC("xdp")
int timer_hash_delete(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index;
	struct flow init = {}, *f;

	f = bpf_map_lookup_elem(&flows, &key);
	if (!f) {
		bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&flows, &key);
		if (!f)
			return XDP_PASS;
		bpf_timer_init(&f->t, &flows, 1);
		bpf_timer_set_callback(&f->t, expire);
	}
	f->seen++;
	bpf_timer_start(&f->t, 1000000000ULL, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
