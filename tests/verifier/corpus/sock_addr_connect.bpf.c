/* OK: a connect4 program rewrites the destination port. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("cgroup/connect4")
int sock_addr_connect(struct bpf_sock_addr *ctx)
{
	if (ctx->user_port == bpf_htons(80))
		ctx->user_port = bpf_htons(8080);
	return 1;
}
char LICENSE[] SEC("license") = "GPL";
