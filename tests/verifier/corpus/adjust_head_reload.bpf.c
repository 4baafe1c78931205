/* OK: after bpf_xdp_adjust_head() the packet pointers are loaded and checked again. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int adjust_head_reload(struct xdp_md *ctx)
{
	unsigned char *data;
	void *data_end;

	if (bpf_xdp_adjust_head(ctx, 14))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if ((void *)(data + 1) > data_end)
		return XDP_PASS;
	return data[0] == 0x45 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
