/* MISTAKE: bpf_dynptr_size on a dynptr never initialized. */
#include "dp_common.h"

SEC("xdp")
int dp_xdp_size_uninit(struct xdp_md *xdp)
{
	struct bpf_dynptr pkt;

	return bpf_dynptr_size(&pkt) > 10 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
