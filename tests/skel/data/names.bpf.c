/* Test program for skeleton name checks: each name below is a placeholder of a fixed length
 * that tests overwrite in the object's bytes (ELF string table and BTF strings alike) to craft
 * objects whose names are not identifiers. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} map_placeholder_0123456789abcdef SEC(".maps");

int var_placeholder_0123456789abcdef = 1;
int in_custom SEC(".data.sec_placeholder_0123456789") = 2;
int qzkeyw = 3;              /* becomes a Python keyword (lambda) */

SEC("xdp")
int prog_placeholder_0123456789abcdef(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&map_placeholder_0123456789abcdef, &k);

	if (v)
		*v += var_placeholder_0123456789abcdef + in_custom + qzkeyw;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
