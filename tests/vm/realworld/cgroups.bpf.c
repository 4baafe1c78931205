// Cgroup filters: a TC program that passes only packets of sockets under the cgroup in slot
// 0 of a cgroup array, and a tracepoint that counts calls by tasks under it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} cgroups SEC(".maps");

__s64 last;
__u64 inside;

SEC("tc")
int tc_cgroup(struct __sk_buff *skb)
{
	last = bpf_skb_under_cgroup(skb, &cgroups, 0);
	return last == 1 ? 0 : 2;   /* TC_ACT_OK : TC_ACT_SHOT */
}

SEC("tracepoint/syscalls/sys_enter_openat")
int count_opens(void *ctx)
{
	long r = bpf_current_task_under_cgroup(&cgroups, 0);

	if (r == 1)
		inside++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
