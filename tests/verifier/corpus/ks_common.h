/* Kernel symbols taken by their BTF id (typed __ksym variables, the address of a kfunc) for the
 * ks_* corpus programs.  Written for this corpus from the kernel's documented declarations. */
#ifndef KS_COMMON_H
#define KS_COMMON_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif

/* whether the loader resolved a __weak kernel symbol (libbpf's bpf_ksym_exists) */
#define ks_exists(sym) (!!&(sym))

/* the scheduler's per-CPU run queue: a struct in the kernel's .data..percpu section */
struct rq {
	int cpu;
};

extern const struct rq runqueues __ksym __weak;
extern const int bpf_prog_active __ksym __weak;

/* read-only string kfuncs (Linux 6.17): their pointers are __ign */
extern int bpf_strnstr(const char *s1__ign, const char *s2__ign, __u64 len) __weak __ksym;
extern int bpf_strlen(const char *s__ign) __weak __ksym;
/* no kernel has this one: the loader leaves its address 0 */
extern int bpf_ks_no_such_kfunc(const char *s__ign) __weak __ksym;

#endif
