// Walking maps with bpf_for_each_map_elem (a callback per element, stopped by returning 1)
// and comparing names with bpf_strncmp, as newer programs do instead of open-coded loops.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} flows SEC(".maps");

struct walk {
	__u64 sum;
	__u32 stop_at;
	__u32 calls;
};

const volatile __u32 stop_at = 0xffffffff;
char name[8] = "hello";

__s64 array_visited, hash_visited, cmp;
__u64 array_sum, hash_sum, array_calls;

static long add_elem(struct bpf_map *map, __u32 *key, __u64 *value, struct walk *w)
{
	w->calls++;
	w->sum += *value * 10 + *key;
	return *key == w->stop_at;
}

SEC("xdp")
int walk(struct xdp_md *ctx)
{
	struct walk a = { .stop_at = stop_at }, h = { .stop_at = 0xffffffff };
	char buf[8];

	array_visited = bpf_for_each_map_elem(&counts, add_elem, &a, 0);
	array_sum = a.sum;
	array_calls = a.calls;
	hash_visited = bpf_for_each_map_elem(&flows, add_elem, &h, 0);
	hash_sum = h.sum;
	__builtin_memcpy(buf, name, sizeof(buf));
	cmp = bpf_strncmp(buf, sizeof(buf), "help");
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
