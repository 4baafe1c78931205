/* MISTAKE: the dynptr argument points 8 bytes into the dynptr. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_misaligned_arg(void *ctx)
{
	struct bpf_dynptr rec[2];
	__u64 v = 0;

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec[0]);
	bpf_dynptr_write((struct bpf_dynptr *)((char *)&rec[0] + 8), 0, &v, sizeof(v), 0);
	bpf_ringbuf_discard_dynptr(&rec[0], 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
