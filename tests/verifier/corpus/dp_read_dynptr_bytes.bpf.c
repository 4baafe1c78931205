/* MISTAKE: the program loads the bytes of a dynptr's stack slots. */
#include "dp_common.h"

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
