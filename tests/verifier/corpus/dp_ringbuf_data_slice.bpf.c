/* dynptr: ringbuf data slice. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_ringbuf_data_slice(void *ctx)
{
	struct bpf_dynptr rec;
	__u64 *slot;

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	slot = bpf_dynptr_data(&rec, 0, sizeof(*slot));
	if (slot)
		*slot = bpf_ktime_get_ns();
	bpf_ringbuf_discard_dynptr(&rec, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
