/* OK (privileged): the key struct's padding is never written, which a privileged loader is
 * allowed (reading uninitialised stack needs CAP_PERFMON). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct key {
	__u8 proto;
	__u32 ifindex;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct key);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int uninit_stack_privileged(struct xdp_md *ctx)
{
	struct key k;
	__u64 *v;

	k.proto = 1;
	k.ifindex = ctx->ingress_ifindex;
	v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		*v += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
