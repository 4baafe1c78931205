/* MISTAKE: when the pid is filtered out the reserved record is neither submitted nor
 * discarded, so the reservation leaks on that path. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct event {
	__u32 pid;
	__u32 tgid;
};

SEC("tracepoint/syscalls/sys_enter_openat")
int ringbuf_leak(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	if ((__u32)id == 1)
		return 0;
	e->pid = id;
	e->tgid = id >> 32;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
