/* OK: a static non-inlined function (a bpf-to-bpf call) parses the packet for the caller. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int l3_proto(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	return eth->h_proto;
}

SEC("xdp")
int subprog_static_call(struct xdp_md *ctx)
{
	int proto = l3_proto(ctx);

	return proto < 0 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
