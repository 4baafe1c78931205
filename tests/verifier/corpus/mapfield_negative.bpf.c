/* MISTAKE: a read before the start of the map structure. */
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
int mapfield_negative(void *ctx)
{
	char *m = (char *)&slots;

	return *(volatile __u32 *)(m - 8);
}

char LICENSE[] SEC("license") = "GPL";
