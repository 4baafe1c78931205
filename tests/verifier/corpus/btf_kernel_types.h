/* The few kernel types the btf_* corpus programs read, declared the way a vmlinux.h would
 * declare them but only with the members used: preserve_access_index makes every member access
 * a CO-RE relocation, so the offsets come from the target kernel's BTF at load time. */
#ifndef BTF_KERNEL_TYPES_H
#define BTF_KERNEL_TYPES_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define __kernel_type __attribute__((preserve_access_index))

struct mm_struct {
	unsigned long total_vm;
} __kernel_type;

struct sched_entity {
	__u64 vruntime;
	__u64 sum_exec_runtime;
} __kernel_type;

struct task_struct {
	void *stack;
	unsigned int flags;
	struct sched_entity se;
	struct mm_struct *mm;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	char comm[16];
} __kernel_type;

struct file {
	unsigned int f_flags;
} __kernel_type;

struct linux_binprm {
	struct file *file;
	int argc;
} __kernel_type;

struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
} __kernel_type;

struct bpf_iter__task_vma {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	struct vm_area_struct *vma;
} __kernel_type;

struct pt_regs {
	unsigned long ip;
	unsigned long sp;
} __kernel_type;

struct socket {
	short type;
} __kernel_type;

struct sock_common {
	unsigned short skc_family;
	unsigned short skc_num;
} __kernel_type;

struct sock {
	struct sock_common __sk_common;
} __kernel_type;

struct tcp_sock {
	__u32 srtt_us;
	__u32 snd_cwnd;
} __kernel_type;

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __kernel_type;

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __kernel_type;

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	struct file *file;
} __kernel_type;

#endif
