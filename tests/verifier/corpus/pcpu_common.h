/* Shared by the pcpu_*.bpf.c corpus programs: per-CPU objects of the program's own struct
 * (bpf_percpu_obj_new), kept as per-CPU kptrs in a map value and reached on one CPU with
 * bpf_this_cpu_ptr / bpf_per_cpu_ptr.  Written for this corpus from the kernel's documented
 * prototypes. */
#ifndef PCPU_COMMON_H
#define PCPU_COMMON_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define percpu_kptr __attribute__((btf_type_tag("percpu_kptr")))

extern void *bpf_percpu_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __ksym;
extern void bpf_percpu_obj_drop_impl(void *p__alloc, void *meta__ign) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
#define percpu_new(type) ((type percpu_kptr *)bpf_percpu_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define percpu_drop(p) bpf_percpu_obj_drop_impl(p, NULL)

/* per-CPU statistics */
struct stats {
	__u64 packets;
	__u64 bytes;
};

/* a map value keeping a per-CPU kptr to the statistics */
struct holder {
	__u64 generation;
	struct stats percpu_kptr *pc;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct holder);
} holders SEC(".maps");

/* the program's BTF must define struct stats in full (a pointer alone gives only its forward
 * declaration, and the kernel then sees no kptr field): a local type-id relocation keeps it */
#define keep_type(type) asm volatile("" : : "r"(bpf_core_type_id_local(type)))

/* h, the map's element (or return 0) */
#define HOLDER(h)						\
	__u32 key_##h = 0;					\
	struct holder *h = bpf_map_lookup_elem(&holders, &key_##h);	\
								\
	keep_type(struct stats);				\
	if (!h)							\
		return 0

/* s, this CPU's copy of the stashed statistics (or return 0 where none is stashed) */
#define THIS_CPU_STATS(s)					\
	struct stats percpu_kptr *p_##s;			\
	struct stats *s;					\
								\
	HOLDER(h_##s);						\
	p_##s = h_##s->pc;					\
	if (!p_##s)						\
		return 0;					\
	s = bpf_this_cpu_ptr(p_##s)

/* p, a new per-CPU object stashed in h's kptr (the one it replaces is freed), or return 0 where
 * none could be allocated */
#define STASH_NEW(h, p)						\
	do {							\
		struct stats percpu_kptr *old_;			\
								\
		p = percpu_new(struct stats);			\
		if (!p)						\
			return 0;				\
		old_ = bpf_kptr_xchg(&(h)->pc, p);		\
		if (old_)					\
			percpu_drop(old_);			\
	} while (0)

#endif
