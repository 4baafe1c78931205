/* dynptr: xdp clone adjust. */
#include "dp_common.h"

SEC("xdp")
int dp_xdp_clone_adjust(struct xdp_md *xdp)
{
	struct bpf_dynptr pkt, view;

	bpf_dynptr_from_xdp(xdp, 0, &pkt);
	bpf_dynptr_clone(&pkt, &view);
	bpf_dynptr_adjust(&view, 1, 4);
	return bpf_dynptr_size(&view) > 10 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
