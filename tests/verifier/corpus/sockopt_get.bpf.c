/* OK: a getsockopt program checks its optval bounds before reading. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup/getsockopt")
int sockopt_get(struct bpf_sockopt *ctx)
{
	__u8 *v = ctx->optval, *end = ctx->optval_end;

	if (v + 1 > end)
		return 1;
	if (ctx->level == 1 && *v == 0)
		ctx->retval = 0;
	return 1;
}
char LICENSE[] SEC("license") = "GPL";
