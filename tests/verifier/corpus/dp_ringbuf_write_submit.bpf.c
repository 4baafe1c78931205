/* dynptr: ringbuf write submit. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_ringbuf_write_submit(void *ctx)
{
	struct bpf_dynptr rec;
	__u64 pid = bpf_get_current_pid_tgid();

	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &rec);
	bpf_dynptr_write(&rec, 0, &pid, sizeof(pid), 0);
	bpf_ringbuf_submit_dynptr(&rec, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
