/* MISTAKE: a socket from a sockmap lookup holds a reference that is never released. */
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
int sk_lookup_leak_map(struct bpf_sk_lookup *ctx)
{
	__u32 zero = 0;
	struct bpf_sock *sk;

	sk = bpf_map_lookup_elem(&servers, &zero);
	if (!sk)
		return SK_DROP;
	return bpf_sk_assign(ctx, sk, 0) ? SK_DROP : SK_PASS;
}
char LICENSE[] SEC("license") = "GPL";
