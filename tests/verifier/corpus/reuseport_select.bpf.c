/* OK: an sk_reuseport program selects a socket from a reuseport array. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} rs SEC(".maps");
SEC("sk_reuseport")
int reuseport_select(struct sk_reuseport_md *md)
{
	__u32 key = md->hash & 3;

	if (bpf_sk_select_reuseport(md, &rs, &key, 0))
		return SK_DROP;
	return SK_PASS;
}
char LICENSE[] SEC("license") = "GPL";
