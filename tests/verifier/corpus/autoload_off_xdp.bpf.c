/* OK: SEC("?xdp") is an XDP program that libbpf does not load unless asked to. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("?xdp")
int autoload_off_xdp(struct xdp_md *ctx)
{
	return ctx->rx_queue_index ? XDP_PASS : XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
