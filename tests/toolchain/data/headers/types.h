/* A small stand-in for vmlinux.h, written for bpfbuild's header tests: the x86-64 kernel's
 * struct pt_regs names, arm64's user_pt_regs, and a few kernel-like structs with every kind of
 * member the CO-RE macros reach (pointers, arrays, signed and unsigned bitfields, enums). */
#ifndef __VMLINUX_H__
#define __VMLINUX_H__

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
enum { false = 0, true = 1 };

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PROG_ARRAY = 3,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_ARRAY_OF_MAPS = 12,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
	BPF_MAP_TYPE_BLOOM_FILTER = 30,
};
enum { BPF_ANY = 0, BPF_NOEXIST = 1 };
enum { BPF_F_NO_PREALLOC = 1 };

#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)

struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};

struct mm_struct {
	unsigned long start_code;
	unsigned long arg_start;
	unsigned long arg_end;
};

struct cred {
	unsigned int uid;
	unsigned int gid;
};

struct task_struct {
	unsigned int __state;
	int pid;
	int tgid;
	unsigned int in_execve: 1;
	unsigned int in_iowait: 1;
	int nice: 6;
	unsigned long long start_time;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct mm_struct *mm;
	const struct cred *cred;
	char comm[16];
	int children_pids[4];
};

/* what the field was called in older kernels: a flavour (the ___ suffix is dropped) */
struct task_struct___old {
	long state;
};

enum pid_type {
	PIDTYPE_PID,
	PIDTYPE_TGID,
	PIDTYPE_PGID,
	PIDTYPE_SID,
	PIDTYPE_MAX,
};

struct seq_file;
struct filename;

/* the state of an open-coded number iterator (kfuncs bpf_iter_num_*) */
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};

/* a 16-byte argument, passed in two registers (two u64 slots of a BPF_PROG2 context) */
struct pair {
	__u64 lo;
	__u64 hi;
};

#pragma clang attribute pop

#endif /* __VMLINUX_H__ */
