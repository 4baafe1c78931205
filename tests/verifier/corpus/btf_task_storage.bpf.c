/* OK: task local storage keyed by the tracepoint's task (ARG_PTR_TO_BTF_ID_OR_NULL). */
#include "btf_kernel_types.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} switches SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_task_storage, bool preempt, struct task_struct *prev)
{
	__u64 *count = bpf_task_storage_get(&switches, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
