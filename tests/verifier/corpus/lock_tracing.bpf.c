/* MISTAKE: a tracepoint program refers to a map whose value holds a bpf_spin_lock. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct val { int cnt; struct bpf_spin_lock lock; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct val);
} locked SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int lock_tracing(void *ctx)
{
	__u32 key = 0;
	struct val *v = bpf_map_lookup_elem(&locked, &key);

	if (v)
		v->cnt++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
