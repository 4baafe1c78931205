/* dynptr: local reinit. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_local_reinit(void *ctx)
{
	struct bpf_dynptr buf;
	char out[4];
	__u32 key = 0;
	__u64 *val = bpf_map_lookup_elem(&scratch, &key);

	if (!val)
		return 0;
	bpf_dynptr_from_mem(val, 64, 0, &buf);
	bpf_dynptr_from_mem(val, 32, 0, &buf);
	bpf_dynptr_read(out, sizeof(out), &buf, 0, 0);
	return out[1];
}

char LICENSE[] SEC("license") = "GPL";
