/* cpumask kfuncs (kernel/bpf/cpumask.c), declared for the kf_cpumask_* corpus programs. */
#ifndef KF_CPUMASK_H
#define KF_CPUMASK_H

#include "kf_common.h"

/* libbpf matches the pointee kinds only: local stand-ins for the kernel's structs */
struct bpf_cpumask {
	int unused;
};
struct cpumask {
	int unused;
};

extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym;
extern void bpf_cpumask_set_cpu(__u32 cpu, struct bpf_cpumask *cpumask) __ksym;
extern _Bool bpf_cpumask_test_cpu(__u32 cpu, const struct cpumask *cpumask) __ksym;
extern __u32 bpf_cpumask_weight(const struct cpumask *cpumask) __ksym;

#endif
