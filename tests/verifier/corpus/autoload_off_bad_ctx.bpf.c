/* MISTAKE: an autoload-off XDP program writes its read-only context. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("?xdp")
int autoload_off_bad_ctx(struct xdp_md *ctx)
{
	ctx->rx_queue_index = 1;
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
