/* MISTAKE: bpf_iter_num_next on stack memory that was never made an iterator. */
#include "kf_common.h"

SEC("xdp")
int kf_iter_num_next_uninit(struct xdp_md *ctx)
{
	struct bpf_iter_num it = {};
	int *v;

	v = bpf_iter_num_next(&it);
	return v ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
