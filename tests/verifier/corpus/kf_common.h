/* Declarations of the kernel functions (kfuncs) the kf_* corpus programs call.  Each is an
 * extern resolved by the loader against the kernel's BTF.  Written for this corpus from the
 * kernel's documented prototypes (clang 14 and libbpf 1.1 headers have none of them). */
#ifndef KF_COMMON_H
#define KF_COMMON_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* libbpf matches the prototypes' pointee kinds: a struct, not a forward declaration */
struct task_struct {
	int pid;
};
struct cgroup {
	int level;
};

/* the open-coded number iterator's stack object: 8 opaque bytes */
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

/* the task iterator's stack object (24 opaque bytes); flags: BPF_TASK_ITER_ALL_PROCS = 0 */
struct bpf_iter_task {
	__u64 __opaque[3];
} __attribute__((aligned(8)));

extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task__nullable,
			     unsigned int flags) __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __ksym;

extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct cgroup *bpf_cgroup_from_id(__u64 cgid) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern void bpf_preempt_disable(void) __ksym;
extern void bpf_preempt_enable(void) __ksym;

static __always_inline void kf_iter_num_cleanup(struct bpf_iter_num *it)
{
	bpf_iter_num_destroy(it);
}

/* i takes the values start, start + 1, ..., end - 1 (an open-coded iterator loop) */
#define kf_for(i, start, end)                                                         \
	for (struct bpf_iter_num ___it __attribute__((cleanup(kf_iter_num_cleanup))), \
	     *___p = (bpf_iter_num_new(&___it, (start), (end)), &___it);              \
	     ({ int *___v = bpf_iter_num_next(___p); ___v ? (i = *___v, 1) : 0; });   \
	     )

#endif
