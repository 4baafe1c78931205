/* OK: bpf_for_each_map_elem() walks a hash map with a callback that sums the values. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

__u64 total = 0;

static long add_value(void *map, __u32 *key, __u64 *value, __u64 *sum)
{
	*sum += *value;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int for_each_map_elem(void *ctx)
{
	__u64 sum = 0;

	bpf_for_each_map_elem(&counts, add_value, &sum, 0);
	total = sum;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
