/* OK: a global function is verified once on its own, for any arguments its prototype allows;
 * the caller only checks that the arguments match the prototype. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int clamp_len(int len)
{
	if (len < 0)
		return 0;
	if (len > 1500)
		return 1500;
	return len;
}

SEC("xdp")
int subprog_global_call(struct xdp_md *ctx)
{
	int len = ctx->data_end - ctx->data;

	return clamp_len(len) > 64 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
