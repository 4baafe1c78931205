/* MISTAKE: bpf_dynptr_read's destination is another dynptr. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_helper_writes_over_dynptr(void *ctx)
{
	struct bpf_dynptr dst, src;
	__u32 key = 0;
	__u64 *val = bpf_map_lookup_elem(&scratch, &key);

	if (!val)
		return 0;
	bpf_dynptr_from_mem(val, 64, 0, &src);
	bpf_dynptr_from_mem(val, 64, 0, &dst);
	bpf_dynptr_read(&dst, 8, &src, 0, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
