/* Probes written with bpf_tracing.h's macros (libbpf 1.1 names). */
#include "types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long seen;
unsigned long ret_ip;

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(on_unlink, int dfd, struct filename *name, long a3, unsigned short a4, char a5)
{
	seen = dfd + (long)name + a3 + a4 + a5;
	BPF_KPROBE_READ_RET_IP(ret_ip, ctx);
	return 0;
}

SEC("kprobe/no_args")
int BPF_KPROBE(on_nothing)
{
	seen = PT_REGS_IP(ctx) + PT_REGS_SP(ctx) + PT_REGS_FP(ctx);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(on_unlink_ret, long ret)
{
	BPF_KRETPROBE_READ_RET_IP(ret_ip, ctx);
	seen = ret;
	return 0;
}

SEC("ksyscall/openat")
int BPF_KSYSCALL(on_openat, int dfd, const char *path, int flags, unsigned int mode)
{
	seen = dfd + (long)path + flags + mode;
	return 0;
}

SEC("kprobe/__x64_sys_kill")
int BPF_KPROBE_SYSCALL(on_kill, int pid, int sig)
{
	seen = pid * sig;
	return 0;
}

SEC("kprobe/vfs_read")
int on_vfs_read(struct pt_regs *ctx)
{
	struct pt_regs *regs = PT_REGS_SYSCALL_REGS(ctx);

	seen = PT_REGS_PARM1_CORE(ctx) + PT_REGS_PARM2_CORE(ctx) + PT_REGS_RC_CORE(ctx) +
	       PT_REGS_IP_CORE(ctx) + PT_REGS_PARM1_CORE_SYSCALL(regs) + PT_REGS_PARM4_CORE_SYSCALL(regs) +
	       PT_REGS_PARM3_SYSCALL(ctx) + PT_REGS_PARM5(ctx);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	seen = preempt + prev->pid + next->pid;
	return 0;
}

SEC("fentry/with_pair")
int BPF_PROG2(on_pair, int, a, struct pair, p, char, c)
{
	seen = a + p.lo + p.hi + c;
	return 0;
}
