/* OK: 32-bit arithmetic and 32-bit comparisons (-mcpu=v3) bound the index the verifier
 * checks.  cflags: -mcpu=v3 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u32 hist[8] = {};

SEC("xdp")
int alu32_jmp32(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 bucket = len / 256;

	if (bucket > 7)
		bucket = 7;
	__sync_fetch_and_add(&hist[bucket], 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
