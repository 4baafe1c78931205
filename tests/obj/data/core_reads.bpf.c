/* CO-RE relocations of every kind against the kernel's own types (vmlinux.h generated from its
 * BTF): field offsets through pointers, a bitfield (byte size, shifts, signedness), field
 * existence, a ___flavour type, type existence/size/id/matching and enumerator values.  Results
 * go to globals: no branch depends on them, so the verifier removes nothing. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* the same struct under a flavour name: matches task_struct by its essential name */
struct task_struct___mine {
	int pid;
	int tgid;
	struct task_struct___mine *real_parent;
} __attribute__((preserve_access_index));

/* a flavour that asks for a field this kernel does not have */
struct task_struct___future {
	int bpfbuild_field_from_the_future;
} __attribute__((preserve_access_index));

enum pid_type___mine { PIDTYPE_TGID___mine = 1 };

long long out[24];


SEC("tracepoint/syscalls/sys_enter_getppid")
int core_reads(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct___mine *mine = (void *)task;
	struct task_struct___future *future = (void *)task;

	out[0] = BPF_CORE_READ(task, real_parent, tgid);
	out[1] = BPF_CORE_READ(mine, real_parent, pid);
	/* a bitfield: every relocated fact stored, then a branch-free read of a 4-byte unit */
	{
		unsigned int unit = 0;

		out[2] = __builtin_preserve_field_info(task->sched_reset_on_fork, BPF_FIELD_BYTE_OFFSET);
		out[17] = __builtin_preserve_field_info(task->sched_reset_on_fork, BPF_FIELD_BYTE_SIZE);
		out[18] = __builtin_preserve_field_info(task->sched_reset_on_fork, BPF_FIELD_LSHIFT_U64);
		out[19] = __builtin_preserve_field_info(task->sched_reset_on_fork, BPF_FIELD_RSHIFT_U64);
		out[20] = __builtin_preserve_field_info(task->sched_reset_on_fork, BPF_FIELD_SIGNED);
		out[21] = __builtin_preserve_field_info(task->prio, BPF_FIELD_SIGNED);
		bpf_probe_read_kernel(&unit, sizeof(unit), (void *)task + out[2]);
		out[22] = ((unsigned long long)unit << out[18]) >> out[19];
	}
	out[3] = bpf_core_field_exists(task->sched_migrated);
	out[4] = bpf_core_field_exists(future->bpfbuild_field_from_the_future);
	out[5] = bpf_core_field_size(task->comm);
	out[6] = bpf_core_field_offset(task->tgid);
	out[7] = bpf_core_type_exists(struct task_struct);
	out[8] = bpf_core_type_exists(struct task_struct___future);
	out[9] = bpf_core_type_size(struct task_struct);
	out[10] = bpf_core_type_id_kernel(struct task_struct);
	out[11] = bpf_core_type_id_local(struct task_struct___mine);
#if __clang_major__ >= 15	/* TYPE_MATCHES is newer than clang 14 */
	out[12] = bpf_core_type_matches(struct task_struct___mine);
#endif
	out[13] = bpf_core_enum_value_exists(enum pid_type, PIDTYPE_TGID);
	out[14] = bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	out[15] = bpf_core_enum_value(enum pid_type___mine, PIDTYPE_TGID___mine);
	out[16] = BPF_CORE_READ(task, comm[1]);
	return 0;
}

/* Relocations the verifier then turns into dead code, which it removes from the xlated program:
 * the tag (computed before verification) is still ours, bytes_xlated is smaller. */
long long dead[2];

SEC("tracepoint/syscalls/sys_enter_getpid")
int core_dead_code(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct___future *future = (void *)task;

	/* the relocated read of the missing field is poisoned; the guard makes it dead code */
	if (bpf_core_field_exists(future->bpfbuild_field_from_the_future))
		dead[0] = BPF_CORE_READ(future, bpfbuild_field_from_the_future);
	/* the macro switches on the relocated byte size: the other cases are dead code */
	dead[1] = BPF_CORE_READ_BITFIELD_PROBED(task, sched_reset_on_fork);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
