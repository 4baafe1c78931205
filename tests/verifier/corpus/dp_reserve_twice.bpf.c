/* MISTAKE: a second reserve into the slots of a ring-buffer dynptr not yet released. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_reserve_twice(void *ctx)
{
	struct bpf_dynptr rec;

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	bpf_ringbuf_discard_dynptr(&rec, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
