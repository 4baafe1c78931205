/* OK: a timer in a hash map value, cancelled when present. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct elem { struct bpf_timer t; __u32 pid; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct elem);
} htimers SEC(".maps");

SEC("tc")
int timer_cancel_hash(void *ctx)
{
	__u32 key = bpf_get_current_pid_tgid();
	struct elem *e = bpf_map_lookup_elem(&htimers, &key);

	if (!e)
		return 0;
	e->pid = key;
	bpf_timer_cancel(&e->t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
