// Stack sampling as profilers write it: a stack id from bpf_get_stackid for the kernel and
// the user stack, and the raw frames from bpf_get_stack into a ring buffer record.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_DEPTH 4

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_DEPTH * sizeof(__u64));
} stack_traces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct event {
	__s64 kern_id;
	__s64 user_id;
	__s64 copied;
	__u64 frames[MAX_DEPTH];
};

const volatile __u64 skip = 0;

SEC("perf_event")
int sample(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->kern_id = bpf_get_stackid(ctx, &stack_traces, skip);
	e->user_id = bpf_get_stackid(ctx, &stack_traces, skip | BPF_F_USER_STACK);
	e->copied = bpf_get_stack(ctx, e->frames, sizeof(e->frames), skip);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
