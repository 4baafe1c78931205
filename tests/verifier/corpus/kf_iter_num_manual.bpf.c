/* OK: the iterator protocol written out: new, next until NULL, destroy; the value indexes an
 * array map after a bounds check. */
#include "kf_common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int kf_iter_num_manual(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int *v;
	__u64 total = 0;

	bpf_iter_num_new(&it, 0, 16);
	while ((v = bpf_iter_num_next(&it))) {
		__u32 key = *v;
		__u64 *val = bpf_map_lookup_elem(&counts, &key);

		if (val)
			total += *val;
	}
	bpf_iter_num_destroy(&it);
	return total ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
