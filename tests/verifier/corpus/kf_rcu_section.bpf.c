/* OK: a bpf_rcu_read_lock/unlock section around a map update. */
#include "kf_common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int kf_rcu_section(void *ctx)
{
	__u32 key = 0;
	__u64 *v;

	bpf_rcu_read_lock();
	v = bpf_map_lookup_elem(&hits, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	bpf_rcu_read_unlock();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
