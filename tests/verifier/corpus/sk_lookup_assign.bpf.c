/* OK: an sk_lookup program picks a socket from a sockmap and assigns it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} servers SEC(".maps");
SEC("sk_lookup")
int sk_lookup_assign(struct bpf_sk_lookup *ctx)
{
	__u32 zero = 0;
	struct bpf_sock *sk;
	long err;

	if (ctx->local_port != 7007)
		return SK_PASS;
	sk = bpf_map_lookup_elem(&servers, &zero);
	if (!sk)
		return SK_DROP;
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	return err ? SK_DROP : SK_PASS;
}
char LICENSE[] SEC("license") = "GPL";
