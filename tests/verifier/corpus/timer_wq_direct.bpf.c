/* MISTAKE: a struct bpf_wq in a map value is read directly by the program. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_wq { __u64 __opaque[2]; } __attribute__((aligned(8)));

struct elem { __u64 runs; struct bpf_wq work; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct elem);
} works SEC(".maps");

SEC("tc")
int timer_wq_direct(void *ctx)
{
	__u32 key = 0;
	struct elem *e = bpf_map_lookup_elem(&works, &key);

	if (!e)
		return 0;
	return *(volatile __u64 *)&e->work != 0;
}

char LICENSE[] SEC("license") = "GPL";
