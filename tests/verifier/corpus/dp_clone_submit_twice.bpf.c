/* MISTAKE: a ring-buffer dynptr and its clone are both submitted. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_clone_submit_twice(void *ctx)
{
	struct bpf_dynptr rec, copy;

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	bpf_dynptr_clone(&rec, &copy);
	bpf_ringbuf_submit_dynptr(&rec, 0);
	bpf_ringbuf_submit_dynptr(&copy, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
