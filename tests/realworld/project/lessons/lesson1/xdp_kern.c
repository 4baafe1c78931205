// SPDX-License-Identifier: GPL-2.0
/* Lesson 1: count packets by the action the program returns (the XDP tutorial's stats map). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct datarec {
	__u64 rx_packets;
	__u64 rx_bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct datarec);
	__uint(max_entries, XDP_REDIRECT + 1);
} xdp_stats_map SEC(".maps");

static __always_inline __u32 record(struct xdp_md *ctx, __u32 action)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct datarec *rec = bpf_map_lookup_elem(&xdp_stats_map, &action);

	if (!rec)
		return XDP_ABORTED;
	rec->rx_packets++;
	rec->rx_bytes += data_end - data;
	return action;
}

SEC("xdp")
int xdp_stats_prog(struct xdp_md *ctx)
{
	return record(ctx, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
