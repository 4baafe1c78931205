/* dynptr: ringbuf write submit. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

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
