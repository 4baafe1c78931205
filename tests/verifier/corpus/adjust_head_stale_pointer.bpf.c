/* MISTAKE: bpf_xdp_adjust_head() moves the packet; pointers derived from ctx->data before the
 * call are no longer valid and must be loaded and checked again. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int adjust_head_stale_pointer(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if ((void *)(data + 16) > data_end)
		return XDP_PASS;
	if (bpf_xdp_adjust_head(ctx, 14))
		return XDP_DROP;
	return data[0] == 0x45 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
