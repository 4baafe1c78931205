/* MISTAKE: the record is reserved with the size of a smaller struct than the one written. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct small { __u32 pid; };
struct big { __u32 pid; __u32 uid; };

SEC("tracepoint/syscalls/sys_enter_openat")
int ringbuf_record_overflow(void *ctx)
{
	struct big *e = bpf_ringbuf_reserve(&events, sizeof(struct small), 0);

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid();
	e->uid = bpf_get_current_uid_gid();
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
