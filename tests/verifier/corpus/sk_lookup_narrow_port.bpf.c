/* OK: sk_lookup fields read narrowly: the low byte of local_port and remote_port as 2 bytes. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sk_lookup")
int sk_lookup_narrow_port(struct bpf_sk_lookup *ctx)
{
	__u8 lo = *(volatile __u8 *)&ctx->local_port;

	return (lo == 80 && ctx->remote_port != 0) ? SK_PASS : SK_DROP;
}
char LICENSE[] SEC("license") = "GPL";
