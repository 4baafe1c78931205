/* OK: the program reads the map's own max_entries and value_size through a map pointer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map {
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} slots SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int mapfield_max_entries(void *ctx)
{
	struct bpf_map *m = (struct bpf_map *)&slots;
	__u32 key = m->max_entries - 1;
	__u64 *v;

	if (m->value_size != 8)
		return 0;
	v = bpf_map_lookup_elem(&slots, &key);
	if (v)
		*v += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
