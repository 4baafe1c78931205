/* OK: an event is sent to user space through a perf event array. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct event {
	__u32 pid;
	__u32 len;
};

SEC("xdp")
int perf_event_output(struct xdp_md *ctx)
{
	struct event e = {
		.pid = 0,
		.len = ctx->data_end - ctx->data,
	};

	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
