/* bpfbuild's header set: reading arguments of probed functions (x86-64 and arm64 pt_regs).
 *
 * PT_REGS_PARM1(ctx)..PT_REGS_PARM5(ctx), PT_REGS_RC(ctx), PT_REGS_IP/SP/FP(ctx) for kprobes;
 * needs `struct pt_regs` from vmlinux.h or <linux/ptrace.h>.  The program-writing macros:
 *   SEC("kprobe/f") int BPF_KPROBE(name, T1 a, T2 b)        arguments from pt_regs
 *   SEC("kretprobe/f") int BPF_KRETPROBE(name, T ret)       the return value
 *   SEC("ksyscall/f") int BPF_KSYSCALL(name, T1 a, ...)     a syscall's own arguments, through the
 *                                                           kernel's syscall wrapper where it has one
 *   SEC("tp_btf/x"), SEC("raw_tp/x"), SEC("fentry/f") int BPF_PROG(name, T1 a, ...)   u64 args
 * `doit` defines __TARGET_ARCH_<arch> for the machine it builds on.
 */
#ifndef BPFBUILD_BPF_TRACING_H
#define BPFBUILD_BPF_TRACING_H

#if defined(__TARGET_ARCH_x86) || (!defined(__TARGET_ARCH_arm64) && !defined(__TARGET_ARCH_riscv))
#  ifdef __VMLINUX_H__
#    define __bpfbuild_reg(ctx, kname, uname) (((const struct pt_regs *)(ctx))->kname)
#  else
#    define __bpfbuild_reg(ctx, kname, uname) (((const struct pt_regs *)(ctx))->uname)
#  endif
#  define PT_REGS_PARM1(x) __bpfbuild_reg(x, di, rdi)
#  define PT_REGS_PARM2(x) __bpfbuild_reg(x, si, rsi)
#  define PT_REGS_PARM3(x) __bpfbuild_reg(x, dx, rdx)
#  define PT_REGS_PARM4(x) __bpfbuild_reg(x, cx, rcx)
#  define PT_REGS_PARM5(x) __bpfbuild_reg(x, r8, r8)
#  define PT_REGS_RET(x) __bpfbuild_reg(x, sp, rsp)
#  define PT_REGS_FP(x) __bpfbuild_reg(x, bp, rbp)
#  define PT_REGS_RC(x) __bpfbuild_reg(x, ax, rax)
#  define PT_REGS_SP(x) __bpfbuild_reg(x, sp, rsp)
#  define PT_REGS_IP(x) __bpfbuild_reg(x, ip, rip)
#elif defined(__TARGET_ARCH_arm64)
#  define __bpfbuild_arm64_reg(x, n) (((const struct user_pt_regs *)(x))->regs[n])
#  define PT_REGS_PARM1(x) __bpfbuild_arm64_reg(x, 0)
#  define PT_REGS_PARM2(x) __bpfbuild_arm64_reg(x, 1)
#  define PT_REGS_PARM3(x) __bpfbuild_arm64_reg(x, 2)
#  define PT_REGS_PARM4(x) __bpfbuild_arm64_reg(x, 3)
#  define PT_REGS_PARM5(x) __bpfbuild_arm64_reg(x, 4)
#  define PT_REGS_RC(x) __bpfbuild_arm64_reg(x, 0)
#  define PT_REGS_FP(x) __bpfbuild_arm64_reg(x, 29)
#  define PT_REGS_SP(x) (((const struct user_pt_regs *)(x))->sp)
#  define PT_REGS_IP(x) (((const struct user_pt_regs *)(x))->pc)
#endif

/* Syscall arguments: the fourth is in r10 on x86-64 (the syscall instruction clobbers rcx);
 * the wrapper's pt_regs is the kernel's (vmlinux.h field names), read with CO-RE. */
#if defined(__TARGET_ARCH_x86) || (!defined(__TARGET_ARCH_arm64) && !defined(__TARGET_ARCH_riscv))
#  define __bpfbuild_sysreg(regs, n) __bpfbuild_sysreg_##n(regs)
#  define __bpfbuild_sysreg_1(regs) BPF_CORE_READ((struct pt_regs *)(regs), di)
#  define __bpfbuild_sysreg_2(regs) BPF_CORE_READ((struct pt_regs *)(regs), si)
#  define __bpfbuild_sysreg_3(regs) BPF_CORE_READ((struct pt_regs *)(regs), dx)
#  define __bpfbuild_sysreg_4(regs) BPF_CORE_READ((struct pt_regs *)(regs), r10)
#  define __bpfbuild_sysreg_5(regs) BPF_CORE_READ((struct pt_regs *)(regs), r8)
#  define __bpfbuild_sysparm(ctx, n) __bpfbuild_sysparm_##n(ctx)
#  define __bpfbuild_sysparm_1(ctx) PT_REGS_PARM1(ctx)
#  define __bpfbuild_sysparm_2(ctx) PT_REGS_PARM2(ctx)
#  define __bpfbuild_sysparm_3(ctx) PT_REGS_PARM3(ctx)
#  define __bpfbuild_sysparm_4(ctx) __bpfbuild_reg(ctx, r10, r10)
#  define __bpfbuild_sysparm_5(ctx) PT_REGS_PARM5(ctx)
#elif defined(__TARGET_ARCH_arm64)
#  define __bpfbuild_sysreg(regs, n) BPF_CORE_READ((struct pt_regs *)(regs), regs[(n) - 1])
#  define __bpfbuild_sysparm(ctx, n) __bpfbuild_arm64_reg(ctx, (n) - 1)
#endif

/* Counting a macro's arguments (0 to 8) and picking the n-th expansion. */
#define __bpfbuild_nargs(...) __bpfbuild_nargs_(_, ##__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __bpfbuild_nargs_(_0, _1, _2, _3, _4, _5, _6, _7, _8, N, ...) N
#define __bpfbuild_cat(a, b) __bpfbuild_cat_(a, b)
#define __bpfbuild_cat_(a, b) a ## b
#define __bpfbuild_apply(m, ...) __bpfbuild_cat(m, __bpfbuild_nargs(__VA_ARGS__))(__VA_ARGS__)

/* BPF_KPROBE: argument i is PT_REGS_PARMi(ctx), cast to the declared type by the call. */
#define __bpfbuild_kp0()
#define __bpfbuild_kp1(a) , (void *)PT_REGS_PARM1(ctx)
#define __bpfbuild_kp2(a, b) __bpfbuild_kp1(a), (void *)PT_REGS_PARM2(ctx)
#define __bpfbuild_kp3(a, b, c) __bpfbuild_kp2(a, b), (void *)PT_REGS_PARM3(ctx)
#define __bpfbuild_kp4(a, b, c, d) __bpfbuild_kp3(a, b, c), (void *)PT_REGS_PARM4(ctx)
#define __bpfbuild_kp5(a, b, c, d, e) __bpfbuild_kp4(a, b, c, d), (void *)PT_REGS_PARM5(ctx)

#define __bpfbuild_wrapper(name, inner_args, call_args)						\
name(struct pt_regs *ctx);									\
static __always_inline typeof(name(0)) ____##name(inner_args);					\
typeof(name(0)) name(struct pt_regs *ctx)							\
{												\
	_Pragma("GCC diagnostic push")								\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")					\
	return ____##name(call_args);								\
	_Pragma("GCC diagnostic pop")								\
}												\
static __always_inline typeof(name(0)) ____##name(inner_args)

#define BPF_KPROBE(name, args...)									\
	__bpfbuild_wrapper(name, __bpfbuild_params(struct pt_regs *ctx, ##args),			\
			   ctx __bpfbuild_apply(__bpfbuild_kp, args))
#define __bpfbuild_params(...) __VA_ARGS__

#define BPF_KRETPROBE(name, args...)									\
	__bpfbuild_wrapper(name, __bpfbuild_params(struct pt_regs *ctx, ##args),			\
			   ctx __bpfbuild_apply(__bpfbuild_krp, args))
#define __bpfbuild_krp0()
#define __bpfbuild_krp1(a) , (void *)PT_REGS_RC(ctx)

/* BPF_KSYSCALL: with the kernel's syscall wrapper (LINUX_HAS_SYSCALL_WRAPPER, a __kconfig the
 * loader resolves) the probed function gets a pt_regs of the user's registers as its first
 * argument, read with CO-RE; without it the arguments are the probe's own registers. */
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __attribute__((section(".kconfig"))) __attribute__((weak));

#define __bpfbuild_ks0()
#define __bpfbuild_ks1(a) , __bpfbuild_ks_arg(1)
#define __bpfbuild_ks2(a, b) __bpfbuild_ks1(a), __bpfbuild_ks_arg(2)
#define __bpfbuild_ks3(a, b, c) __bpfbuild_ks2(a, b), __bpfbuild_ks_arg(3)
#define __bpfbuild_ks4(a, b, c, d) __bpfbuild_ks3(a, b, c), __bpfbuild_ks_arg(4)
#define __bpfbuild_ks5(a, b, c, d, e) __bpfbuild_ks4(a, b, c, d), __bpfbuild_ks_arg(5)
#define __bpfbuild_ks_arg(n)										\
	(void *)(LINUX_HAS_SYSCALL_WRAPPER ? (unsigned long)__bpfbuild_sysreg(__bpfbuild_regs, n)	\
					   : (unsigned long)__bpfbuild_sysparm(ctx, n))

#define BPF_KSYSCALL(name, args...)									\
name(struct pt_regs *ctx);									\
static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args);		\
typeof(name(0)) name(struct pt_regs *ctx)							\
{												\
	struct pt_regs *__bpfbuild_regs = LINUX_HAS_SYSCALL_WRAPPER				\
		? (struct pt_regs *)PT_REGS_PARM1(ctx) : ctx;					\
	_Pragma("GCC diagnostic push")								\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")					\
	return ____##name(ctx __bpfbuild_apply(__bpfbuild_ks, args));				\
	_Pragma("GCC diagnostic pop")								\
}												\
static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args)

/* BPF_PROG: BTF-typed programs get an array of u64 arguments. */
#define __bpfbuild_pg0()
#define __bpfbuild_pg1(a) , (void *)ctx[0]
#define __bpfbuild_pg2(a, b) __bpfbuild_pg1(a), (void *)ctx[1]
#define __bpfbuild_pg3(a, b, c) __bpfbuild_pg2(a, b), (void *)ctx[2]
#define __bpfbuild_pg4(a, b, c, d) __bpfbuild_pg3(a, b, c), (void *)ctx[3]
#define __bpfbuild_pg5(a, b, c, d, e) __bpfbuild_pg4(a, b, c, d), (void *)ctx[4]
#define __bpfbuild_pg6(a, b, c, d, e, f) __bpfbuild_pg5(a, b, c, d, e), (void *)ctx[5]

#define BPF_PROG(name, args...)									\
name(unsigned long long *ctx);									\
static __always_inline typeof(name(0)) ____##name(unsigned long long *ctx, ##args);		\
typeof(name(0)) name(unsigned long long *ctx)							\
{												\
	_Pragma("GCC diagnostic push")								\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")					\
	return ____##name(ctx __bpfbuild_apply(__bpfbuild_pg, args));				\
	_Pragma("GCC diagnostic pop")								\
}												\
static __always_inline typeof(name(0)) ____##name(unsigned long long *ctx, ##args)

/* BPF_SEQ_PRINTF(seq, fmt, args...): bpf_seq_printf (iterator programs) with the arguments as an
 * array of u64, the format string in .rodata; up to 12 arguments (bpf_helpers.h's u64 list). */
#define BPF_SEQ_PRINTF(seq, fmt, ...)						\
({										\
	static const char ____seq_fmt[] = fmt;					\
	unsigned long long ____seq_args[] = {					\
		__bpfbuild_pick(__bpfbuild_u64s, __bpfbuild_printk_narg(fmt, ##__VA_ARGS__))(__VA_ARGS__) \
	};									\
	bpf_seq_printf(seq, ____seq_fmt, sizeof(____seq_fmt), ____seq_args, sizeof(____seq_args)); \
})

#endif /* BPFBUILD_BPF_TRACING_H */
