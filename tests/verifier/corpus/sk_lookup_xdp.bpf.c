/* OK: a socket lookup from XDP with the tuple in the packet itself. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int sk_lookup_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct bpf_sock_tuple *t = data + 26;
	struct bpf_sock *sk;

	if ((void *)t + sizeof(t->ipv4) > end)
		return XDP_PASS;
	sk = bpf_sk_lookup_udp(ctx, t, sizeof(t->ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return XDP_PASS;
	bpf_sk_release(sk);
	return XDP_DROP;
}
char LICENSE[] SEC("license") = "GPL";
