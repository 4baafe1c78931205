/* bpfbuild's header set: arguments of probed functions, and the program-writing macros.
 *
 * Written for bpfbuild; the public names and meaning are those of libbpf 1.5's
 * <bpf/bpf_tracing.h>, so a program compiles to the same instructions with either header.
 *
 * Registers of a probe's pt_regs (needs `struct pt_regs` from vmlinux.h or <linux/ptrace.h>):
 *   PT_REGS_PARM1(ctx)..PT_REGS_PARM8(ctx), PT_REGS_RET/FP/RC/SP/IP(ctx)   direct reads
 *   PT_REGS_PARM1_CORE(ctx)..., PT_REGS_RC_CORE(ctx)...                     through BPF_CORE_READ
 *   PT_REGS_PARM1_SYSCALL(regs)..PT_REGS_PARM7_SYSCALL(regs)               a syscall's own
 *   PT_REGS_PARM1_CORE_SYSCALL(regs)...                                     arguments
 *   PT_REGS_SYSCALL_REGS(ctx)       the user registers a syscall wrapper receives
 *   BPF_KPROBE_READ_RET_IP(ip, ctx), BPF_KRETPROBE_READ_RET_IP(ip, ctx)
 * Program-writing macros (the handler's arguments are declared with their C types):
 *   SEC("kprobe/f") int BPF_KPROBE(name, T1 a, ...)          up to 8 register arguments
 *   SEC("kretprobe/f") int BPF_KRETPROBE(name, T ret)
 *   SEC("uprobe") BPF_UPROBE / SEC("uretprobe") BPF_URETPROBE   the same for user space
 *   SEC("ksyscall/f") int BPF_KSYSCALL(name, T1 a, ...)      a syscall's arguments, through the
 *                                                           kernel's syscall wrapper where it has
 *                                                           one (LINUX_HAS_SYSCALL_WRAPPER)
 *   BPF_KPROBE_SYSCALL                                       the older name of BPF_KSYSCALL
 *   SEC("tp_btf/x"), SEC("fentry/f") int BPF_PROG(name, T1 a, ...)    one u64 per argument
 *   BPF_PROG2(name, T1, a, T2, b)                            types and names apart: arguments
 *                                                           of 16 bytes take two u64 slots
 * The target architecture comes from -D__TARGET_ARCH_<arch> (x86, arm64, arm, s390, riscv,
 * powerpc, mips, sparc, arc, loongarch; `doit` passes the build machine's), else from the
 * compiler's own target; without either, the register macros fail at their use.
 */
#ifndef BPFBUILD_BPF_TRACING_H
#define BPFBUILD_BPF_TRACING_H

#include <bpf/bpf_helpers.h>

/* --- which architecture's pt_regs ------------------------------------------------------------ */

#if defined(__TARGET_ARCH_x86)
#define bpf_target_x86
#elif defined(__TARGET_ARCH_s390)
#define bpf_target_s390
#elif defined(__TARGET_ARCH_arm)
#define bpf_target_arm
#elif defined(__TARGET_ARCH_arm64)
#define bpf_target_arm64
#elif defined(__TARGET_ARCH_mips)
#define bpf_target_mips
#elif defined(__TARGET_ARCH_powerpc)
#define bpf_target_powerpc
#elif defined(__TARGET_ARCH_sparc)
#define bpf_target_sparc
#elif defined(__TARGET_ARCH_riscv)
#define bpf_target_riscv
#elif defined(__TARGET_ARCH_arc)
#define bpf_target_arc
#elif defined(__TARGET_ARCH_loongarch)
#define bpf_target_loongarch
#elif defined(__x86_64__)
#define bpf_target_x86
#elif defined(__s390__)
#define bpf_target_s390
#elif defined(__arm__)
#define bpf_target_arm
#elif defined(__aarch64__)
#define bpf_target_arm64
#elif defined(__mips__)
#define bpf_target_mips
#elif defined(__powerpc__)
#define bpf_target_powerpc
#elif defined(__sparc__)
#define bpf_target_sparc
#elif defined(__riscv) && __riscv_xlen == 64
#define bpf_target_riscv
#elif defined(__arc__)
#define bpf_target_arc
#elif defined(__loongarch__)
#define bpf_target_loongarch
#endif

#if defined(bpf_target_x86) || defined(bpf_target_s390) || defined(bpf_target_arm) ||	\
	defined(bpf_target_arm64) || defined(bpf_target_mips) || defined(bpf_target_powerpc) || \
	defined(bpf_target_sparc) || defined(bpf_target_riscv) || defined(bpf_target_arc) ||	\
	defined(bpf_target_loongarch)
#define bpf_target_defined
#endif

#ifndef __BPF_TARGET_MISSING
#define __BPF_TARGET_MISSING "GCC error \"Must specify a BPF target arch via __TARGET_ARCH_xxx\""
#endif

/* --- register names per architecture ----------------------------------------------------------
 * __PT_PARMn_REG: the n-th function argument; __PT_PARMn_SYSCALL_REG: the n-th syscall argument
 * in the user registers; RET: the return address (or the register/slot holding it), FP, RC (the
 * return value), SP, IP.  __PT_REGS_CAST(x): the struct the fields are read from. */

#if defined(bpf_target_x86)
#  if defined(__KERNEL__) || defined(__VMLINUX_H__)
/* the kernel's struct pt_regs (vmlinux.h) */
#    define __PT_PARM1_REG di
#    define __PT_PARM2_REG si
#    define __PT_PARM3_REG dx
#    define __PT_PARM4_REG cx
#    define __PT_PARM5_REG r8
#    define __PT_PARM6_REG r9
#    define __PT_PARM4_SYSCALL_REG r10	/* the syscall instruction clobbers rcx */
#    define __PT_RET_REG sp
#    define __PT_FP_REG bp
#    define __PT_RC_REG ax
#    define __PT_SP_REG sp
#    define __PT_IP_REG ip
#  elif defined(__i386__)
/* the UAPI struct pt_regs of 32-bit x86 (<asm/ptrace.h>) */
#    define __PT_PARM1_REG eax
#    define __PT_PARM2_REG edx
#    define __PT_PARM3_REG ecx
#    define __PT_PARM1_SYSCALL_REG ebx
#    define __PT_PARM2_SYSCALL_REG ecx
#    define __PT_PARM3_SYSCALL_REG edx
#    define __PT_PARM4_SYSCALL_REG esi
#    define __PT_PARM5_SYSCALL_REG edi
#    define __PT_PARM6_SYSCALL_REG ebp
#    define __PT_RET_REG esp
#    define __PT_FP_REG ebp
#    define __PT_RC_REG eax
#    define __PT_SP_REG esp
#    define __PT_IP_REG eip
#  else
/* the UAPI struct pt_regs of x86-64 (<asm/ptrace.h>) */
#    define __PT_PARM1_REG rdi
#    define __PT_PARM2_REG rsi
#    define __PT_PARM3_REG rdx
#    define __PT_PARM4_REG rcx
#    define __PT_PARM5_REG r8
#    define __PT_PARM6_REG r9
#    define __PT_PARM4_SYSCALL_REG r10
#    define __PT_RET_REG rsp
#    define __PT_FP_REG rbp
#    define __PT_RC_REG rax
#    define __PT_SP_REG rsp
#    define __PT_IP_REG rip
#  endif

#elif defined(bpf_target_s390)
/* the first syscall argument is saved in orig_gpr2 (gpr2 becomes the return value) */
struct pt_regs___s390 {
	unsigned long orig_gpr2;
} __attribute__((preserve_access_index));
#  define __PT_REGS_CAST(x) ((const user_pt_regs *)(x))
#  define __PT_PARM1_REG gprs[2]
#  define __PT_PARM2_REG gprs[3]
#  define __PT_PARM3_REG gprs[4]
#  define __PT_PARM4_REG gprs[5]
#  define __PT_PARM5_REG gprs[6]
#  define __PT_PARM1_SYSCALL_REG orig_gpr2
#  define __PT_PARM6_SYSCALL_REG gprs[7]
#  define PT_REGS_PARM1_SYSCALL(x) (((const struct pt_regs___s390 *)(x))->__PT_PARM1_SYSCALL_REG)
#  define PT_REGS_PARM1_CORE_SYSCALL(x) \
	BPF_CORE_READ((const struct pt_regs___s390 *)(x), __PT_PARM1_SYSCALL_REG)
#  define __PT_RET_REG gprs[14]
#  define __PT_FP_REG gprs[11]		/* with CONFIG_FRAME_POINTER only */
#  define __PT_RC_REG gprs[2]
#  define __PT_SP_REG gprs[15]
#  define __PT_IP_REG psw.addr

#elif defined(bpf_target_arm)
#  define __PT_PARM1_REG uregs[0]
#  define __PT_PARM2_REG uregs[1]
#  define __PT_PARM3_REG uregs[2]
#  define __PT_PARM4_REG uregs[3]
#  define __PT_PARM5_SYSCALL_REG uregs[4]
#  define __PT_PARM6_SYSCALL_REG uregs[5]
#  define __PT_PARM7_SYSCALL_REG uregs[6]
#  define __PT_RET_REG uregs[14]
#  define __PT_FP_REG uregs[11]		/* with CONFIG_FRAME_POINTER only */
#  define __PT_RC_REG uregs[0]
#  define __PT_SP_REG uregs[13]
#  define __PT_IP_REG uregs[12]

#elif defined(bpf_target_arm64)
/* the first syscall argument is saved in orig_x0, a field of the kernel's pt_regs only */
struct pt_regs___arm64 {
	unsigned long orig_x0;
} __attribute__((preserve_access_index));
#  define __PT_REGS_CAST(x) ((const struct user_pt_regs *)(x))
#  define __PT_PARM1_REG regs[0]
#  define __PT_PARM2_REG regs[1]
#  define __PT_PARM3_REG regs[2]
#  define __PT_PARM4_REG regs[3]
#  define __PT_PARM5_REG regs[4]
#  define __PT_PARM6_REG regs[5]
#  define __PT_PARM7_REG regs[6]
#  define __PT_PARM8_REG regs[7]
#  define __PT_PARM1_SYSCALL_REG orig_x0
#  define PT_REGS_PARM1_SYSCALL(x) (((const struct pt_regs___arm64 *)(x))->__PT_PARM1_SYSCALL_REG)
#  define PT_REGS_PARM1_CORE_SYSCALL(x) \
	BPF_CORE_READ((const struct pt_regs___arm64 *)(x), __PT_PARM1_SYSCALL_REG)
#  define __PT_RET_REG regs[30]
#  define __PT_FP_REG regs[29]		/* with CONFIG_FRAME_POINTER only */
#  define __PT_RC_REG regs[0]
#  define __PT_SP_REG sp
#  define __PT_IP_REG pc

#elif defined(bpf_target_mips)
#  define __PT_PARM1_REG regs[4]
#  define __PT_PARM2_REG regs[5]
#  define __PT_PARM3_REG regs[6]
#  define __PT_PARM4_REG regs[7]
#  define __PT_PARM5_REG regs[8]	/* N32/N64 ABIs */
#  define __PT_PARM6_REG regs[9]
#  define __PT_PARM7_REG regs[10]
#  define __PT_PARM8_REG regs[11]
#  define __PT_RET_REG regs[31]
#  define __PT_FP_REG regs[30]		/* with CONFIG_FRAME_POINTER only */
#  define __PT_RC_REG regs[2]
#  define __PT_SP_REG regs[29]
#  define __PT_IP_REG cp0_epc

#elif defined(bpf_target_powerpc)
#  define __PT_PARM1_REG gpr[3]
#  define __PT_PARM2_REG gpr[4]
#  define __PT_PARM3_REG gpr[5]
#  define __PT_PARM4_REG gpr[6]
#  define __PT_PARM5_REG gpr[7]
#  define __PT_PARM6_REG gpr[8]
#  define __PT_PARM7_REG gpr[9]
#  define __PT_PARM8_REG gpr[10]
/* no syscall wrapper taking a pt_regs: the syscall's registers are the probe's */
#  define PT_REGS_SYSCALL_REGS(ctx) ctx
#  define __PT_PARM1_SYSCALL_REG orig_gpr3
#  if !defined(__arch64__)
#    define __PT_PARM7_SYSCALL_REG __PT_PARM7_REG	/* 32-bit powerpc only */
#  endif
#  define __PT_RET_REG regs[31]
#  define __PT_FP_REG __unsupported__
#  define __PT_RC_REG gpr[3]
#  define __PT_SP_REG sp
#  define __PT_IP_REG nip

#elif defined(bpf_target_sparc)
#  define __PT_PARM1_REG u_regs[UREG_I0]
#  define __PT_PARM2_REG u_regs[UREG_I1]
#  define __PT_PARM3_REG u_regs[UREG_I2]
#  define __PT_PARM4_REG u_regs[UREG_I3]
#  define __PT_PARM5_REG u_regs[UREG_I4]
#  define __PT_PARM6_REG u_regs[UREG_I5]
#  define __PT_RET_REG u_regs[UREG_I7]
#  define __PT_FP_REG __unsupported__
#  define __PT_RC_REG u_regs[UREG_I0]
#  define __PT_SP_REG u_regs[UREG_FP]
#  if defined(__arch64__)
#    define __PT_IP_REG tpc
#  else
#    define __PT_IP_REG pc
#  endif

#elif defined(bpf_target_riscv)
struct pt_regs___riscv {
	unsigned long orig_a0;
} __attribute__((preserve_access_index));
#  define __PT_REGS_CAST(x) ((const struct user_regs_struct *)(x))
#  define __PT_PARM1_REG a0
#  define __PT_PARM2_REG a1
#  define __PT_PARM3_REG a2
#  define __PT_PARM4_REG a3
#  define __PT_PARM5_REG a4
#  define __PT_PARM6_REG a5
#  define __PT_PARM7_REG a6
#  define __PT_PARM8_REG a7
#  define __PT_PARM1_SYSCALL_REG orig_a0
#  define PT_REGS_PARM1_SYSCALL(x) (((const struct pt_regs___riscv *)(x))->__PT_PARM1_SYSCALL_REG)
#  define PT_REGS_PARM1_CORE_SYSCALL(x) \
	BPF_CORE_READ((const struct pt_regs___riscv *)(x), __PT_PARM1_SYSCALL_REG)
#  define __PT_RET_REG ra
#  define __PT_FP_REG s0
#  define __PT_RC_REG a0
#  define __PT_SP_REG sp
#  define __PT_IP_REG pc

#elif defined(bpf_target_arc)
#  define __PT_REGS_CAST(x) ((const struct user_regs_struct *)(x))
#  define __PT_PARM1_REG scratch.r0
#  define __PT_PARM2_REG scratch.r1
#  define __PT_PARM3_REG scratch.r2
#  define __PT_PARM4_REG scratch.r3
#  define __PT_PARM5_REG scratch.r4
#  define __PT_PARM6_REG scratch.r5
#  define __PT_PARM7_REG scratch.r6
#  define __PT_PARM8_REG scratch.r7
#  define PT_REGS_SYSCALL_REGS(ctx) ctx
#  define __PT_RET_REG scratch.blink
#  define __PT_FP_REG scratch.fp
#  define __PT_RC_REG scratch.r0
#  define __PT_SP_REG scratch.sp
#  define __PT_IP_REG scratch.ret

#elif defined(bpf_target_loongarch)
#  define __PT_REGS_CAST(x) ((const struct user_pt_regs *)(x))
#  define __PT_PARM1_REG regs[4]
#  define __PT_PARM2_REG regs[5]
#  define __PT_PARM3_REG regs[6]
#  define __PT_PARM4_REG regs[7]
#  define __PT_PARM5_REG regs[8]
#  define __PT_PARM6_REG regs[9]
#  define __PT_PARM7_REG regs[10]
#  define __PT_PARM8_REG regs[11]
#  define PT_REGS_SYSCALL_REGS(ctx) ctx
#  define __PT_RET_REG regs[1]
#  define __PT_FP_REG regs[22]
#  define __PT_RC_REG regs[4]
#  define __PT_SP_REG regs[3]
#  define __PT_IP_REG csr_era
#endif

#if defined(bpf_target_defined)

struct pt_regs;

/* What an architecture leaves out: its function arguments beyond those in registers, and
 * syscall arguments that are the function-argument registers. */
#ifndef __PT_REGS_CAST
#define __PT_REGS_CAST(x) (x)
#endif
#ifndef __PT_PARM4_REG
#define __PT_PARM4_REG __unsupported__
#endif
#ifndef __PT_PARM5_REG
#define __PT_PARM5_REG __unsupported__
#endif
#ifndef __PT_PARM6_REG
#define __PT_PARM6_REG __unsupported__
#endif
#ifndef __PT_PARM7_REG
#define __PT_PARM7_REG __unsupported__
#endif
#ifndef __PT_PARM8_REG
#define __PT_PARM8_REG __unsupported__
#endif
#ifndef __PT_PARM1_SYSCALL_REG
#define __PT_PARM1_SYSCALL_REG __PT_PARM1_REG
#endif
#ifndef __PT_PARM2_SYSCALL_REG
#define __PT_PARM2_SYSCALL_REG __PT_PARM2_REG
#endif
#ifndef __PT_PARM3_SYSCALL_REG
#define __PT_PARM3_SYSCALL_REG __PT_PARM3_REG
#endif
#ifndef __PT_PARM4_SYSCALL_REG
#define __PT_PARM4_SYSCALL_REG __PT_PARM4_REG
#endif
#ifndef __PT_PARM5_SYSCALL_REG
#define __PT_PARM5_SYSCALL_REG __PT_PARM5_REG
#endif
#ifndef __PT_PARM6_SYSCALL_REG
#define __PT_PARM6_SYSCALL_REG __PT_PARM6_REG
#endif
#ifndef __PT_PARM7_SYSCALL_REG
#define __PT_PARM7_SYSCALL_REG __unsupported__
#endif

#define __bpfbuild_reg(x, reg) (__PT_REGS_CAST(x)->reg)
#define __bpfbuild_reg_core(x, reg) BPF_CORE_READ(__PT_REGS_CAST(x), reg)

#define PT_REGS_PARM1(x) __bpfbuild_reg(x, __PT_PARM1_REG)
#define PT_REGS_PARM2(x) __bpfbuild_reg(x, __PT_PARM2_REG)
#define PT_REGS_PARM3(x) __bpfbuild_reg(x, __PT_PARM3_REG)
#define PT_REGS_PARM4(x) __bpfbuild_reg(x, __PT_PARM4_REG)
#define PT_REGS_PARM5(x) __bpfbuild_reg(x, __PT_PARM5_REG)
#define PT_REGS_PARM6(x) __bpfbuild_reg(x, __PT_PARM6_REG)
#define PT_REGS_PARM7(x) __bpfbuild_reg(x, __PT_PARM7_REG)
#define PT_REGS_PARM8(x) __bpfbuild_reg(x, __PT_PARM8_REG)
#define PT_REGS_RET(x) __bpfbuild_reg(x, __PT_RET_REG)
#define PT_REGS_FP(x) __bpfbuild_reg(x, __PT_FP_REG)
#define PT_REGS_RC(x) __bpfbuild_reg(x, __PT_RC_REG)
#define PT_REGS_SP(x) __bpfbuild_reg(x, __PT_SP_REG)
#define PT_REGS_IP(x) __bpfbuild_reg(x, __PT_IP_REG)

#define PT_REGS_PARM1_CORE(x) __bpfbuild_reg_core(x, __PT_PARM1_REG)
#define PT_REGS_PARM2_CORE(x) __bpfbuild_reg_core(x, __PT_PARM2_REG)
#define PT_REGS_PARM3_CORE(x) __bpfbuild_reg_core(x, __PT_PARM3_REG)
#define PT_REGS_PARM4_CORE(x) __bpfbuild_reg_core(x, __PT_PARM4_REG)
#define PT_REGS_PARM5_CORE(x) __bpfbuild_reg_core(x, __PT_PARM5_REG)
#define PT_REGS_PARM6_CORE(x) __bpfbuild_reg_core(x, __PT_PARM6_REG)
#define PT_REGS_PARM7_CORE(x) __bpfbuild_reg_core(x, __PT_PARM7_REG)
#define PT_REGS_PARM8_CORE(x) __bpfbuild_reg_core(x, __PT_PARM8_REG)
#define PT_REGS_RET_CORE(x) __bpfbuild_reg_core(x, __PT_RET_REG)
#define PT_REGS_FP_CORE(x) __bpfbuild_reg_core(x, __PT_FP_REG)
#define PT_REGS_RC_CORE(x) __bpfbuild_reg_core(x, __PT_RC_REG)
#define PT_REGS_SP_CORE(x) __bpfbuild_reg_core(x, __PT_SP_REG)
#define PT_REGS_IP_CORE(x) __bpfbuild_reg_core(x, __PT_IP_REG)

/* The return address: in a register (powerpc's link, arm64/sparc's RET register), else on the
 * stack at the probe's SP (kprobe entry) or one word above the frame pointer (kretprobe). */
#if defined(bpf_target_powerpc)
#define BPF_KPROBE_READ_RET_IP(ip, ctx) ({ (ip) = (ctx)->link; })
#define BPF_KRETPROBE_READ_RET_IP BPF_KPROBE_READ_RET_IP
#elif defined(bpf_target_sparc) || defined(bpf_target_arm64)
#define BPF_KPROBE_READ_RET_IP(ip, ctx) ({ (ip) = PT_REGS_RET(ctx); })
#define BPF_KRETPROBE_READ_RET_IP BPF_KPROBE_READ_RET_IP
#else
#define BPF_KPROBE_READ_RET_IP(ip, ctx) \
	({ bpf_probe_read_kernel(&(ip), sizeof(ip), (void *)PT_REGS_RET(ctx)); })
#define BPF_KRETPROBE_READ_RET_IP(ip, ctx) \
	({ bpf_probe_read_kernel(&(ip), sizeof(ip), (void *)(PT_REGS_FP(ctx) + sizeof(ip))); })
#endif

/* A syscall's arguments in the user registers (s390, arm64 and riscv define the first above). */
#ifndef PT_REGS_PARM1_SYSCALL
#define PT_REGS_PARM1_SYSCALL(x) __bpfbuild_reg(x, __PT_PARM1_SYSCALL_REG)
#define PT_REGS_PARM1_CORE_SYSCALL(x) __bpfbuild_reg_core(x, __PT_PARM1_SYSCALL_REG)
#endif
#define PT_REGS_PARM2_SYSCALL(x) __bpfbuild_reg(x, __PT_PARM2_SYSCALL_REG)
#define PT_REGS_PARM2_CORE_SYSCALL(x) __bpfbuild_reg_core(x, __PT_PARM2_SYSCALL_REG)
#define PT_REGS_PARM3_SYSCALL(x) __bpfbuild_reg(x, __PT_PARM3_SYSCALL_REG)
#define PT_REGS_PARM3_CORE_SYSCALL(x) __bpfbuild_reg_core(x, __PT_PARM3_SYSCALL_REG)
#define PT_REGS_PARM4_SYSCALL(x) __bpfbuild_reg(x, __PT_PARM4_SYSCALL_REG)
#define PT_REGS_PARM4_CORE_SYSCALL(x) __bpfbuild_reg_core(x, __PT_PARM4_SYSCALL_REG)
#define PT_REGS_PARM5_SYSCALL(x) __bpfbuild_reg(x, __PT_PARM5_SYSCALL_REG)
#define PT_REGS_PARM5_CORE_SYSCALL(x) __bpfbuild_reg_core(x, __PT_PARM5_SYSCALL_REG)
#define PT_REGS_PARM6_SYSCALL(x) __bpfbuild_reg(x, __PT_PARM6_SYSCALL_REG)
#define PT_REGS_PARM6_CORE_SYSCALL(x) __bpfbuild_reg_core(x, __PT_PARM6_SYSCALL_REG)
#define PT_REGS_PARM7_SYSCALL(x) __bpfbuild_reg(x, __PT_PARM7_SYSCALL_REG)
#define PT_REGS_PARM7_CORE_SYSCALL(x) __bpfbuild_reg_core(x, __PT_PARM7_SYSCALL_REG)

#else /* no target architecture: each use is a compile error naming the fix */

#define __bpfbuild_no_target ({ _Pragma(__BPF_TARGET_MISSING); 0l; })
#define PT_REGS_PARM1(x) __bpfbuild_no_target
#define PT_REGS_PARM2(x) __bpfbuild_no_target
#define PT_REGS_PARM3(x) __bpfbuild_no_target
#define PT_REGS_PARM4(x) __bpfbuild_no_target
#define PT_REGS_PARM5(x) __bpfbuild_no_target
#define PT_REGS_PARM6(x) __bpfbuild_no_target
#define PT_REGS_PARM7(x) __bpfbuild_no_target
#define PT_REGS_PARM8(x) __bpfbuild_no_target
#define PT_REGS_RET(x) __bpfbuild_no_target
#define PT_REGS_FP(x) __bpfbuild_no_target
#define PT_REGS_RC(x) __bpfbuild_no_target
#define PT_REGS_SP(x) __bpfbuild_no_target
#define PT_REGS_IP(x) __bpfbuild_no_target
#define PT_REGS_PARM1_CORE(x) __bpfbuild_no_target
#define PT_REGS_PARM2_CORE(x) __bpfbuild_no_target
#define PT_REGS_PARM3_CORE(x) __bpfbuild_no_target
#define PT_REGS_PARM4_CORE(x) __bpfbuild_no_target
#define PT_REGS_PARM5_CORE(x) __bpfbuild_no_target
#define PT_REGS_PARM6_CORE(x) __bpfbuild_no_target
#define PT_REGS_PARM7_CORE(x) __bpfbuild_no_target
#define PT_REGS_PARM8_CORE(x) __bpfbuild_no_target
#define PT_REGS_RET_CORE(x) __bpfbuild_no_target
#define PT_REGS_FP_CORE(x) __bpfbuild_no_target
#define PT_REGS_RC_CORE(x) __bpfbuild_no_target
#define PT_REGS_SP_CORE(x) __bpfbuild_no_target
#define PT_REGS_IP_CORE(x) __bpfbuild_no_target
#define BPF_KPROBE_READ_RET_IP(ip, ctx) __bpfbuild_no_target
#define BPF_KRETPROBE_READ_RET_IP(ip, ctx) __bpfbuild_no_target
#define PT_REGS_PARM1_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM2_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM3_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM4_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM5_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM6_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM7_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM1_CORE_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM2_CORE_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM3_CORE_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM4_CORE_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM5_CORE_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM6_CORE_SYSCALL(x) __bpfbuild_no_target
#define PT_REGS_PARM7_CORE_SYSCALL(x) __bpfbuild_no_target

#endif /* bpf_target_defined */

/* The pt_regs of the user registers a syscall wrapper gets as its first argument. */
#ifndef PT_REGS_SYSCALL_REGS
#define PT_REGS_SYSCALL_REGS(ctx) ((struct pt_regs *)PT_REGS_PARM1(ctx))
#endif

/* --- the program-writing macros --------------------------------------------------------------
 * Each expands to the program function `name(ctx)`, which calls an always-inlined `____name`
 * with ctx and the declared arguments, each fetched as an unsigned long long and converted to
 * its declared type by the call (-Wint-conversion silenced for pointer arguments). */

struct pt_regs;

/* The head shared by all of them: declare name, declare ____name, open name's body. */
#define __bpfbuild_prog_head(name, ctx_decl, args...)					\
name(ctx_decl);										\
static __always_inline typeof(name(0)) ____##name(ctx_decl, ##args);			\
typeof(name(0)) name(ctx_decl)

#define __bpfbuild_prog_call(name, call_args)						\
{											\
	_Pragma("GCC diagnostic push")							\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")				\
	return ____##name(call_args);							\
	_Pragma("GCC diagnostic pop")							\
}											\
static __always_inline typeof(name(0))

/* BPF_PROG: BTF-typed programs (tp_btf, fentry, fexit, lsm, struct_ops...) get one u64 per
 * argument: argument i is ctx[i]. */
#define __bpfbuild_ctx_slot(i, n) ctx[i]
#define __bpfbuild_ctx_args(args...) ctx __bpfbuild_each(__bpfbuild_ctx_slot, args)

#define BPF_PROG(name, args...)								\
	__bpfbuild_prog_head(name, unsigned long long *ctx, ##args)			\
	__bpfbuild_prog_call(name, __bpfbuild_ctx_args(args))				\
	____##name(unsigned long long *ctx, ##args)

/* BPF_PROG2(name, T1, a, T2, b, ...): as BPF_PROG, but each argument's slots follow its size:
 * 1, 2, 4 or 8 bytes take one u64 slot, 16 bytes (a struct passed by value) take two.  The
 * value is rebuilt from its slots through a union.  Up to 12 (type, name) pairs. */
#define __bpfbuild_nth2(_, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15,	\
			_16, _17, _18, _19, _20, _21, _22, _23, _24, N, ...) N
#define __bpfbuild_npairs(...)									\
	__bpfbuild_nth2(_, ##__VA_ARGS__, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8, 7, 7, 6, 6, 5, 5,	\
			4, 4, 3, 3, 2, 2, 1, 1, 0)

/* u64 slots of a type: 1 for sizes 1..8, 2 for 16 (anything else: a compile error) */
#define __bpfbuild_slots(t)						\
	__builtin_choose_expr(sizeof(t) == 1, 1,			\
	__builtin_choose_expr(sizeof(t) == 2, 1,			\
	__builtin_choose_expr(sizeof(t) == 4, 1,			\
	__builtin_choose_expr(sizeof(t) == 8, 1,			\
	__builtin_choose_expr(sizeof(t) == 16, 2, (void)0)))))

/* slots of the pairs (t, x, rest...): the sum over all pairs */
#define __bpfbuild_nslots0() (0)
#define __bpfbuild_nslots1(t, x) (__bpfbuild_nslots0() + __bpfbuild_slots(t))
#define __bpfbuild_nslots2(t, x, rest...) (__bpfbuild_nslots1(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots3(t, x, rest...) (__bpfbuild_nslots2(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots4(t, x, rest...) (__bpfbuild_nslots3(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots5(t, x, rest...) (__bpfbuild_nslots4(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots6(t, x, rest...) (__bpfbuild_nslots5(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots7(t, x, rest...) (__bpfbuild_nslots6(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots8(t, x, rest...) (__bpfbuild_nslots7(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots9(t, x, rest...) (__bpfbuild_nslots8(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots10(t, x, rest...) (__bpfbuild_nslots9(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots11(t, x, rest...) (__bpfbuild_nslots10(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots12(t, x, rest...) (__bpfbuild_nslots11(rest) + __bpfbuild_slots(t))
#define __bpfbuild_nslots(args...) ___bpf_apply(__bpfbuild_nslots, __bpfbuild_npairs(args))(args)

/* the value of type t whose slots start at ctx[n] */
#define __bpfbuild_union_arg(t, x, n)										\
	__builtin_choose_expr(sizeof(t) == 1,									\
		({ union { __u8 z[1]; t x; } ___t = { .z = { ctx[n] } }; ___t.x; }),				\
	__builtin_choose_expr(sizeof(t) == 2,									\
		({ union { __u16 z[1]; t x; } ___t = { .z = { ctx[n] } }; ___t.x; }),				\
	__builtin_choose_expr(sizeof(t) == 4,									\
		({ union { __u32 z[1]; t x; } ___t = { .z = { ctx[n] } }; ___t.x; }),				\
	__builtin_choose_expr(sizeof(t) == 8,									\
		({ union { __u64 z[1]; t x; } ___t = { .z = { ctx[n] } }; ___t.x; }),				\
	__builtin_choose_expr(sizeof(t) == 16,									\
		({ union { __u64 z[2]; t x; } ___t = { .z = { ctx[n], ctx[n + 1] } }; ___t.x; }),		\
		(void)0)))))

/* the call arguments: pair k starts at slot (total slots - slots of pairs k..last) */
#define __bpfbuild_p2arg0(n, rest...)
#define __bpfbuild_p2arg1(n, t, x) , __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots1(t, x))
#define __bpfbuild_p2arg2(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots2(t, x, rest)) __bpfbuild_p2arg1(n, rest)
#define __bpfbuild_p2arg3(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots3(t, x, rest)) __bpfbuild_p2arg2(n, rest)
#define __bpfbuild_p2arg4(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots4(t, x, rest)) __bpfbuild_p2arg3(n, rest)
#define __bpfbuild_p2arg5(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots5(t, x, rest)) __bpfbuild_p2arg4(n, rest)
#define __bpfbuild_p2arg6(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots6(t, x, rest)) __bpfbuild_p2arg5(n, rest)
#define __bpfbuild_p2arg7(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots7(t, x, rest)) __bpfbuild_p2arg6(n, rest)
#define __bpfbuild_p2arg8(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots8(t, x, rest)) __bpfbuild_p2arg7(n, rest)
#define __bpfbuild_p2arg9(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots9(t, x, rest)) __bpfbuild_p2arg8(n, rest)
#define __bpfbuild_p2arg10(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots10(t, x, rest)) __bpfbuild_p2arg9(n, rest)
#define __bpfbuild_p2arg11(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots11(t, x, rest)) __bpfbuild_p2arg10(n, rest)
#define __bpfbuild_p2arg12(n, t, x, rest...) \
	, __bpfbuild_union_arg(t, x, n - __bpfbuild_nslots12(t, x, rest)) __bpfbuild_p2arg11(n, rest)
#define __bpfbuild_p2args(args...) \
	___bpf_apply(__bpfbuild_p2arg, __bpfbuild_npairs(args))(__bpfbuild_nslots(args), args)

/* the parameter list: , T1 a, T2 b ... */
#define __bpfbuild_p2decl0()
#define __bpfbuild_p2decl1(t, x) , t x
#define __bpfbuild_p2decl2(t, x, rest...) , t x __bpfbuild_p2decl1(rest)
#define __bpfbuild_p2decl3(t, x, rest...) , t x __bpfbuild_p2decl2(rest)
#define __bpfbuild_p2decl4(t, x, rest...) , t x __bpfbuild_p2decl3(rest)
#define __bpfbuild_p2decl5(t, x, rest...) , t x __bpfbuild_p2decl4(rest)
#define __bpfbuild_p2decl6(t, x, rest...) , t x __bpfbuild_p2decl5(rest)
#define __bpfbuild_p2decl7(t, x, rest...) , t x __bpfbuild_p2decl6(rest)
#define __bpfbuild_p2decl8(t, x, rest...) , t x __bpfbuild_p2decl7(rest)
#define __bpfbuild_p2decl9(t, x, rest...) , t x __bpfbuild_p2decl8(rest)
#define __bpfbuild_p2decl10(t, x, rest...) , t x __bpfbuild_p2decl9(rest)
#define __bpfbuild_p2decl11(t, x, rest...) , t x __bpfbuild_p2decl10(rest)
#define __bpfbuild_p2decl12(t, x, rest...) , t x __bpfbuild_p2decl11(rest)
#define __bpfbuild_p2decls(args...) ___bpf_apply(__bpfbuild_p2decl, __bpfbuild_npairs(args))(args)

#define BPF_PROG2(name, args...)							\
name(unsigned long long *ctx);								\
static __always_inline typeof(name(0))							\
____##name(unsigned long long *ctx __bpfbuild_p2decls(args));				\
typeof(name(0)) name(unsigned long long *ctx)						\
{											\
	return ____##name(ctx __bpfbuild_p2args(args));					\
}											\
static __always_inline typeof(name(0))							\
____##name(unsigned long long *ctx __bpfbuild_p2decls(args))

/* BPF_KPROBE: argument i is PT_REGS_PARMi(ctx). */
#define __bpfbuild_kp_reg(i, n) (unsigned long long)PT_REGS_PARM##n(ctx)
#define __bpfbuild_kp_args(args...) ctx __bpfbuild_each(__bpfbuild_kp_reg, args)

#define BPF_KPROBE(name, args...)							\
	__bpfbuild_prog_head(name, struct pt_regs *ctx, ##args)				\
	__bpfbuild_prog_call(name, __bpfbuild_kp_args(args))				\
	____##name(struct pt_regs *ctx, ##args)

/* BPF_KRETPROBE: the one argument is the return value. */
#define __bpfbuild_krp_reg(i, n) (unsigned long long)PT_REGS_RC(ctx)
#define __bpfbuild_krp_args(args...) ctx __bpfbuild_each(__bpfbuild_krp_reg, args)

#define BPF_KRETPROBE(name, args...)							\
	__bpfbuild_prog_head(name, struct pt_regs *ctx, ##args)				\
	__bpfbuild_prog_call(name, __bpfbuild_krp_args(args))				\
	____##name(struct pt_regs *ctx, ##args)

/* BPF_KSYSCALL: with the kernel's syscall wrapper (LINUX_HAS_SYSCALL_WRAPPER, a __kconfig the
 * loader resolves) the probed function's first argument points to the user registers, read with
 * CO-RE probe reads; without it the syscall's registers are the probe's own. */
#define __bpfbuild_sys_reg(i, n) (unsigned long long)PT_REGS_PARM##n##_SYSCALL(regs)
#define __bpfbuild_sys_args(args...) ctx __bpfbuild_each(__bpfbuild_sys_reg, args)

#define __bpfbuild_wrap_reg(i, n) (unsigned long long)PT_REGS_PARM##n##_CORE_SYSCALL(regs)
#define __bpfbuild_wrap_args(args...) ctx __bpfbuild_each(__bpfbuild_wrap_reg, args)

#define BPF_KSYSCALL(name, args...)							\
name(struct pt_regs *ctx);								\
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;					\
static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args);	\
typeof(name(0)) name(struct pt_regs *ctx)						\
{											\
	struct pt_regs *regs = LINUX_HAS_SYSCALL_WRAPPER				\
			       ? (struct pt_regs *)PT_REGS_PARM1(ctx)			\
			       : ctx;							\
	_Pragma("GCC diagnostic push")							\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")				\
	if (LINUX_HAS_SYSCALL_WRAPPER)							\
		return ____##name(__bpfbuild_wrap_args(args));				\
	else										\
		return ____##name(__bpfbuild_sys_args(args));				\
	_Pragma("GCC diagnostic pop")							\
}											\
static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args)

#define BPF_KPROBE_SYSCALL BPF_KSYSCALL

/* User-space probes read the same pt_regs. */
#define BPF_UPROBE(name, args...) BPF_KPROBE(name, ##args)
#define BPF_URETPROBE(name, args...) BPF_KRETPROBE(name, ##args)

#endif /* BPFBUILD_BPF_TRACING_H */
