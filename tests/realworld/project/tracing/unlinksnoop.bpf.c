// SPDX-License-Identifier: GPL-2.0
/* unlinksnoop: who removes files.  A kprobe on do_unlinkat with BPF_KPROBE, CO-RE reads of
 * kernel structs (a pointer chain, a bitfield, a field that moved between kernel versions via a
 * ___flavour type and bpf_core_field_exists), and an untyped __ksym (an address from kallsyms). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "unlinksnoop.h"

/* Kernels before 5.14 called task_struct's state field `state`; the ___old flavour lets CO-RE
 * match the same struct under its old shape. */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

extern const void do_unlinkat __ksym __weak;  /* untyped: an address from kallsyms */

struct unlink_stats stats = {};

static __always_inline long task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	return BPF_CORE_READ((struct task_struct___old *)task, state);
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink_entry, int dfd, struct filename *name)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const char *path = BPF_CORE_READ(name, name);

	__sync_fetch_and_add(&stats.calls, 1);
	if (BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		__sync_fetch_and_add(&stats.in_execve, 1);
	stats.last_state = task_state(task);
	stats.probe_addr = (__u64)&do_unlinkat;
	bpf_probe_read_kernel_str(stats.last_name, sizeof(stats.last_name), path);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
