/* MISTAKE: the address of a field is computed from the lookup result before it is checked
 * for NULL: no arithmetic is allowed on a pointer that may be NULL. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct stats { __u64 packets; __u64 bytes; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct stats);
} table SEC(".maps");

SEC("xdp")
int null_ptr_arith(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex;
	struct stats *s = bpf_map_lookup_elem(&table, &key);
	__u64 *bytes = &s->bytes;

	asm volatile("" : "+r"(bytes));
	if (s)
		*bytes += ctx->data_end - ctx->data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
