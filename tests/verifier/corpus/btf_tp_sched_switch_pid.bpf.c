/* OK: a tp_btf program reads pid fields of the tracepoint's task_struct arguments (trusted
 * PTR_TO_BTF_ID: plain loads, no bpf_probe_read). */
#include "btf_kernel_types.h"

__u64 switches = 0;
__u32 last_next = 0;

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_tp_sched_switch_pid, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (prev->pid != next->pid)
		__sync_fetch_and_add(&switches, 1);
	last_next = next->tgid;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
