/* dynptr: ringbuf loop. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_ringbuf_loop(void *ctx)
{
	struct bpf_dynptr rec;
	int i;

	for (i = 0; i < 4; i++) {
		__u64 v = i;

		bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
		bpf_dynptr_write(&rec, 0, &v, sizeof(v), 0);
		bpf_ringbuf_submit_dynptr(&rec, 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
