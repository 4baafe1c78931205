/* MISTAKE: a store into the stack slots of a ring-buffer dynptr. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_overwrite_referenced(void *ctx)
{
	struct bpf_dynptr rec;

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	*(volatile __u64 *)&rec = 0;
	bpf_ringbuf_discard_dynptr(&rec, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
