/* MISTAKE: the slice of a ring-buffer dynptr is written after the record was submitted. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_slice_after_submit(void *ctx)
{
	struct bpf_dynptr rec;
	__u64 *slot;

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	slot = bpf_dynptr_data(&rec, 0, sizeof(*slot));
	if (!slot) {
		bpf_ringbuf_discard_dynptr(&rec, 0);
		return 0;
	}
	bpf_ringbuf_submit_dynptr(&rec, 0);
	*slot = 3;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
