// Modern tracing shapes: BTF-typed tracepoint arguments read directly, the current task
// through bpf_get_current_task_btf (direct loads) and bpf_get_current_task + CO-RE reads.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

__u32 next_pid = 1;
__u64 switches;
__u32 pid, parent_tgid, core_parent_tgid;
char comm[16];
int name_seen = -1;

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	next_pid = next->pid;
	switches++;
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();

	pid = task->pid;
	parent_tgid = task->real_parent->tgid;
	bpf_probe_read_kernel_str(comm, sizeof(comm), task->comm);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	core_parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	return 0;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(on_unlink, int dfd, struct filename *name)
{
	const char *text = BPF_CORE_READ(name, name);

	name_seen = name != 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
