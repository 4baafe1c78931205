/* MISTAKE: a store destroys the local dynptr, which is then read. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_local_overwrite_then_read(void *ctx)
{
	struct bpf_dynptr buf;
	char out[8];
	__u32 key = 0;
	__u64 *val = bpf_map_lookup_elem(&scratch, &key);

	if (!val)
		return 0;
	bpf_dynptr_from_mem(val, 64, 0, &buf);
	*(volatile __u32 *)&buf = 5;
	bpf_dynptr_read(out, sizeof(out), &buf, 0, 0);
	return out[0];
}

char LICENSE[] SEC("license") = "GPL";
