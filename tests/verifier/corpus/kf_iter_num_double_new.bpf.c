/* MISTAKE: bpf_iter_num_new on an iterator that is already initialized. */
#include "kf_common.h"

SEC("xdp")
int kf_iter_num_double_new(struct xdp_md *ctx)
{
	struct bpf_iter_num it;

	bpf_iter_num_new(&it, 0, 10);
	bpf_iter_num_new(&it, 0, 20);
	bpf_iter_num_destroy(&it);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
