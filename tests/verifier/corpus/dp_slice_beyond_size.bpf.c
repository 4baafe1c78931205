/* MISTAKE: an 8-byte slice is written at offset 8. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_slice_beyond_size(void *ctx)
{
	struct bpf_dynptr rec;
	__u64 *slot;

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	slot = bpf_dynptr_data(&rec, 0, 8);
	if (slot)
		slot[1] = 3;
	bpf_ringbuf_discard_dynptr(&rec, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
