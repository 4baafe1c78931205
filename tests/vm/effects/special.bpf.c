// Map values with special fields (a spin lock and a timer between plain fields): what user
// space writes and reads of them, and what an update frees.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct val {
	__u64 a;
	struct bpf_spin_lock lock;
	__u32 b;
	struct bpf_timer t;
	__u64 fired;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct val);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct val);
} hsh SEC(".maps");

static int fired(void *map, __u32 *key, struct val *v)
{
	v->fired++;
	return 0;
}

static int arm(void *map, struct val *v)
{
	if (bpf_timer_init(&v->t, map, 1))
		return 0;
	bpf_timer_set_callback(&v->t, fired);
	bpf_timer_start(&v->t, 1000, 0);
	bpf_spin_lock(&v->lock);
	v->a++;
	bpf_spin_unlock(&v->lock);
	return 1;
}

/* arms the timer of arr[0] and of hsh[0] (when it exists): the number armed */
SEC("xdp")
int arm_timers(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct val *v;
	int n = 0;

	v = bpf_map_lookup_elem(&arr, &k);
	if (v)
		n += arm(&arr, v);
	v = bpf_map_lookup_elem(&hsh, &k);
	if (v)
		n += arm(&hsh, v);
	return n;
}

char LICENSE[] SEC("license") = "GPL";
