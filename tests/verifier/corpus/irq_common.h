/* Shared by the irq_*.bpf.c corpus programs: saving and restoring the CPU's interrupt state
 * (bpf_local_irq_save/restore, Linux 6.14+) and the resilient locks that save it as they lock.
 * Written for this corpus from the kernel's documented prototypes. */
#ifndef IRQ_COMMON_H
#define IRQ_COMMON_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void bpf_local_irq_save(unsigned long *flags__irq_flag) __ksym;
extern void bpf_local_irq_restore(unsigned long *flags__irq_flag) __ksym;

/* the kernel's struct (4 bytes); uapi headers do not have it */
struct bpf_res_spin_lock { __u32 val; };

extern int bpf_res_spin_lock_irqsave(struct bpf_res_spin_lock *lock, unsigned long *flags__irq_flag) __ksym;
extern void bpf_res_spin_unlock_irqrestore(struct bpf_res_spin_lock *lock,
					   unsigned long *flags__irq_flag) __ksym;
extern int bpf_res_spin_lock(struct bpf_res_spin_lock *lock) __ksym;
extern void bpf_res_spin_unlock(struct bpf_res_spin_lock *lock) __ksym;

/* a counter guarded by a resilient lock, in an array map */
struct guarded {
	struct bpf_res_spin_lock lock;
	__u32 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct guarded);
} guarded_map SEC(".maps");

/* g, element i of guarded_map (or return 0) */
#define GUARDED(g, i)						\
	__u32 key_##g = (i);					\
	struct guarded *g = bpf_map_lookup_elem(&guarded_map, &key_##g);	\
	if (!g)							\
		return 0

/* a and b, elements 0 and 1 of guarded_map, both locked with the interrupt state saved in fa
 * and fb (or return 0 with nothing held) */
#define LOCK_BOTH(a, fa, b, fb)					\
	GUARDED(a, 0);						\
	GUARDED(b, 1);						\
	if (bpf_res_spin_lock_irqsave(&a->lock, &fa))		\
		return 0;					\
	if (bpf_res_spin_lock_irqsave(&b->lock, &fb)) {		\
		bpf_res_spin_unlock_irqrestore(&a->lock, &fa);	\
		return 0;					\
	}

#endif
