/* bpfbuild's header set: the everyday macros of eBPF C programs.
 *
 * Written for bpfbuild; used only when libbpf's own headers (libbpf-dev) are not installed.
 * Source-compatible with programs written against <bpf/bpf_helpers.h>: SEC(), the BTF map
 * definition macros, bpf_printk(), inlining attributes, and the helper declarations generated
 * from the kernel UAPI header on this machine (bpf_helper_defs.h, written by `doit`).
 */
#ifndef BPFBUILD_BPF_HELPERS_H
#define BPFBUILD_BPF_HELPERS_H

#include <bpf/bpf_helper_defs.h>

/* Place a function or variable in an ELF section; the loader derives the program type from it. */
#define SEC(name) \
	_Pragma("GCC diagnostic push") \
	_Pragma("GCC diagnostic ignored \"-Wignored-attributes\"") \
	__attribute__((section(name), used)) \
	_Pragma("GCC diagnostic pop")

/* BTF-defined maps: each macro declares a member whose *type* carries the value. */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define __ulong(name, val) enum { ___bpf_concat(__unique_value, __COUNTER__) = val } name

#ifndef ___bpf_concat
#define ___bpf_concat(a, b) a ## b
#endif

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif
#ifndef __hidden
#define __hidden __attribute__((visibility("hidden")))
#endif
#define __kconfig __attribute__((section(".kconfig")))
#define __ksym __attribute__((section(".ksyms")))
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))
#define __kptr __attribute__((btf_type_tag("kptr")))
#define __percpu_kptr __attribute__((btf_type_tag("percpu_kptr")))

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#ifndef NULL
#define NULL ((void *)0)
#endif

#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((void *)(ptr) - offsetof(type, member)))
#endif

/* Keep the compiler from reasoning about a value (e.g. to preserve a bounds check). */
#define barrier() asm volatile("" ::: "memory")
#define barrier_var(var) asm volatile("" : "+r"(var))

/* The values a tristate __kconfig extern takes (CONFIG_X=y, =m, or unset). */
enum libbpf_tristate {
	TRI_NO = 0,
	TRI_YES = 1,
	TRI_MODULE = 2,
};

/* Whether a __weak __ksym (variable or kfunc) was found in the running kernel. */
#define bpf_ksym_exists(sym) (!!(&(sym)))

/* Pinning of BTF-defined maps (the `pinning` member). */
enum libbpf_pin_type {
	LIBBPF_PIN_NONE,
	LIBBPF_PIN_BY_NAME,
};

/* Tail calls: a program-array slot the compiler must not reorder around. */
static __always_inline void bpf_tail_call_static(void *ctx, const void *map, const __u32 slot)
{
	bpf_tail_call(ctx, (void *)map, slot);
}

/* bpf_printk(fmt, args...): the kind index counts the arguments plus one. Up to three arguments go through bpf_trace_printk (what the
 * classic programs compile to); more use bpf_trace_vprintk with an array of u64. The format
 * string lives in .rodata as a static const char array. */
#define __bpfbuild_printk_narg(...) __bpfbuild_printk_narg_(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __bpfbuild_printk_narg_(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, N, ...) N
#define __bpfbuild_pick(base, n) ___bpf_concat(base, n)

#define __bpfbuild_printk_short(fmt, ...)					\
({										\
	static const char ____fmt[] = fmt;					\
	bpf_trace_printk(____fmt, sizeof(____fmt), ##__VA_ARGS__);		\
})

#define __bpfbuild_u64s0()
#define __bpfbuild_u64s1(a) (unsigned long long)(a)
#define __bpfbuild_u64s2(a, ...) (unsigned long long)(a), __bpfbuild_u64s1(__VA_ARGS__)
#define __bpfbuild_u64s3(a, ...) (unsigned long long)(a), __bpfbuild_u64s2(__VA_ARGS__)
#define __bpfbuild_u64s4(a, ...) (unsigned long long)(a), __bpfbuild_u64s3(__VA_ARGS__)
#define __bpfbuild_u64s5(a, ...) (unsigned long long)(a), __bpfbuild_u64s4(__VA_ARGS__)
#define __bpfbuild_u64s6(a, ...) (unsigned long long)(a), __bpfbuild_u64s5(__VA_ARGS__)
#define __bpfbuild_u64s7(a, ...) (unsigned long long)(a), __bpfbuild_u64s6(__VA_ARGS__)
#define __bpfbuild_u64s8(a, ...) (unsigned long long)(a), __bpfbuild_u64s7(__VA_ARGS__)
#define __bpfbuild_u64s9(a, ...) (unsigned long long)(a), __bpfbuild_u64s8(__VA_ARGS__)
#define __bpfbuild_u64s10(a, ...) (unsigned long long)(a), __bpfbuild_u64s9(__VA_ARGS__)
#define __bpfbuild_u64s11(a, ...) (unsigned long long)(a), __bpfbuild_u64s10(__VA_ARGS__)
#define __bpfbuild_u64s12(a, ...) (unsigned long long)(a), __bpfbuild_u64s11(__VA_ARGS__)

#define __bpfbuild_printk_long(fmt, ...)					\
({										\
	static const char ____fmt[] = fmt;					\
	unsigned long long ____args[] = {					\
		__bpfbuild_pick(__bpfbuild_u64s, __bpfbuild_printk_narg(__VA_ARGS__))(__VA_ARGS__) \
	};									\
	bpf_trace_vprintk(____fmt, sizeof(____fmt), ____args, sizeof(____args)); \
})

#define __bpfbuild_printk_kind1 __bpfbuild_printk_short
#define __bpfbuild_printk_kind2 __bpfbuild_printk_short
#define __bpfbuild_printk_kind3 __bpfbuild_printk_short
#define __bpfbuild_printk_kind4 __bpfbuild_printk_short
#define __bpfbuild_printk_kind5 __bpfbuild_printk_long
#define __bpfbuild_printk_kind6 __bpfbuild_printk_long
#define __bpfbuild_printk_kind7 __bpfbuild_printk_long
#define __bpfbuild_printk_kind8 __bpfbuild_printk_long
#define __bpfbuild_printk_kind9 __bpfbuild_printk_long
#define __bpfbuild_printk_kind10 __bpfbuild_printk_long
#define __bpfbuild_printk_kind11 __bpfbuild_printk_long
#define __bpfbuild_printk_kind12 __bpfbuild_printk_long

#define bpf_printk(fmt, args...) \
	__bpfbuild_pick(__bpfbuild_printk_kind, __bpfbuild_printk_narg(x, ##args))(fmt, ##args)

#endif /* BPFBUILD_BPF_HELPERS_H */
