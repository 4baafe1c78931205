/* MISTAKE: a local (map value) dynptr passed to bpf_ringbuf_submit_dynptr. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_submit_local(void *ctx)
{
	struct bpf_dynptr buf;
	__u32 key = 0;
	__u64 *val = bpf_map_lookup_elem(&scratch, &key);

	if (!val)
		return 0;
	bpf_dynptr_from_mem(val, 64, 0, &buf);
	bpf_ringbuf_submit_dynptr(&buf, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
