/* dynptr: from map value read. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[8]);
} scratch SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_from_map_value_read(void *ctx)
{
	struct bpf_dynptr buf;
	char out[16] = {};
	__u32 key = 0;
	__u64 *val = bpf_map_lookup_elem(&scratch, &key);

	if (!val)
		return 0;
	bpf_dynptr_from_mem(val, 64, 0, &buf);
	bpf_dynptr_read(out, sizeof(out), &buf, 0, 0);
	return out[0];
}

char LICENSE[] SEC("license") = "GPL";
