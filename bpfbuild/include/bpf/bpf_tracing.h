/* bpfbuild's header set: reading arguments of probed functions (x86-64 and arm64 pt_regs).
 *
 * PT_REGS_PARM1(ctx)..PT_REGS_PARM5(ctx), PT_REGS_RC(ctx), PT_REGS_IP/SP/FP(ctx) for kprobes;
 * needs `struct pt_regs` from vmlinux.h or <linux/ptrace.h>.
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

#endif /* BPFBUILD_BPF_TRACING_H */
