/* CO-RE reads with bpf_core_read.h's macros (libbpf 1.1 names). */
#include "types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long out[16];
char name[16];

SEC("kprobe/wake_up_new_task")
int BPF_KPROBE(on_new_task, struct task_struct *task)
{
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	int ppid = 0;

	out[0] = BPF_CORE_READ(task, real_parent, real_parent, group_leader, tgid);
	BPF_CORE_READ_INTO(&ppid, task, real_parent, tgid);
	out[1] = ppid + (long)parent;
	BPF_CORE_READ_STR_INTO(&name, task, group_leader, comm);
	out[2] = BPF_CORE_READ(task, mm, arg_start) + BPF_CORE_READ(task, cred, uid);
	out[3] = BPF_CORE_READ(task, children_pids[2]);
	out[4] = BPF_PROBE_READ(task, real_parent, pid);
	out[5] = BPF_CORE_READ_USER(task, start_time);
	BPF_PROBE_READ_USER_STR_INTO(&name, task, comm);
	bpf_core_read(&ppid, sizeof(ppid), &task->tgid);
	bpf_core_read_str(name, sizeof(name), &task->comm);
	out[6] = ppid;
	return 0;
}

SEC("kprobe/bitfields")
int BPF_KPROBE(on_bits, struct task_struct *task)
{
	out[7] = BPF_CORE_READ_BITFIELD_PROBED(task, in_iowait);
	out[8] = BPF_CORE_READ_BITFIELD_PROBED(task, nice);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *task)
{
	out[9] = BPF_CORE_READ_BITFIELD(task, in_execve) + BPF_CORE_READ_BITFIELD(task, nice);
	return 0;
}

SEC("kprobe/questions")
int BPF_KPROBE(on_questions, struct task_struct *task)
{
	struct task_struct___old *old = (void *)task;
	long state;

	if (bpf_core_field_exists(task->__state))
		state = BPF_CORE_READ(task, __state);
	else
		state = BPF_CORE_READ(old, state);
	out[10] = state;
	out[11] = bpf_core_field_exists(struct task_struct___old, state) +
		  bpf_core_field_size(task->comm) + bpf_core_field_offset(struct task_struct, pid);
	out[12] = bpf_core_type_exists(struct task_struct___old) + bpf_core_type_size(struct mm_struct);
	out[13] = bpf_core_enum_value_exists(enum pid_type, PIDTYPE_SID) +
		  bpf_core_enum_value(enum pid_type, PIDTYPE_MAX);
	out[14] = bpf_core_type_id_local(struct task_struct) + bpf_core_type_id_kernel(struct task_struct);
	return 0;
}
