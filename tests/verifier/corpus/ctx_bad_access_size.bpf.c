/* MISTAKE: xdp_md fields are 4-byte fields and may only be loaded whole; a 2-byte load of
 * ingress_ifindex is refused. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ctx_bad_access_size(struct xdp_md *ctx)
{
	__u16 ifindex = *(volatile __u16 *)&ctx->ingress_ifindex;

	return ifindex == 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
