/* OK: key_size and value_size of a hash map read through its map pointer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map { __u32 key_size; __u32 value_size; } __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u32);
} lru SEC(".maps");

SEC("tc")
int mapfield_sizes(void *ctx)
{
	struct bpf_map *m = (struct bpf_map *)&lru;

	return m->key_size + m->value_size == 12 ? 0 : 2;
}

char LICENSE[] SEC("license") = "GPL";
