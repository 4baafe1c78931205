/* MISTAKE: the program loads the bytes of a dynptr's stack slots. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[8]);
} scratch SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_read_dynptr_bytes(void *ctx)
{
	struct bpf_dynptr buf;
	__u32 key = 0;
	__u64 *val = bpf_map_lookup_elem(&scratch, &key);

	if (!val)
		return 0;
	bpf_dynptr_from_mem(val, 64, 0, &buf);
	return *(volatile __u32 *)&buf;
}

char LICENSE[] SEC("license") = "GPL";
