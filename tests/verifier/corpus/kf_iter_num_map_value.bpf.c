/* MISTAKE: an iterator must live on the stack; here it is placed in a map value. */
#include "kf_common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_iter_num);
} iters SEC(".maps");

SEC("xdp")
int kf_iter_num_map_value(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct bpf_iter_num *it = bpf_map_lookup_elem(&iters, &key);

	if (!it)
		return XDP_PASS;
	bpf_iter_num_new(it, 0, 4);
	bpf_iter_num_destroy(it);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
