/* MISTAKE: a tracing program refers to a map whose value holds a bpf_timer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct elem { __u64 fired; struct bpf_timer t; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct elem);
} timers SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int timer_tracing(void *ctx)
{
	__u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &key);

	if (e)
		e->fired++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
