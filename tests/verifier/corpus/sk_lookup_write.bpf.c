/* MISTAKE: the sk_lookup context is read-only. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("sk_lookup")
int sk_lookup_write(struct bpf_sk_lookup *ctx)
{
	ctx->local_port = 8080;
	return SK_PASS;
}
char LICENSE[] SEC("license") = "GPL";
