/* dynptr: submit or discard. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_submit_or_discard(void *ctx)
{
	struct bpf_dynptr rec;
	__u64 v = bpf_get_prandom_u32();

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	if (bpf_dynptr_write(&rec, 0, &v, sizeof(v), 0))
		bpf_ringbuf_discard_dynptr(&rec, 0);
	else
		bpf_ringbuf_submit_dynptr(&rec, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
