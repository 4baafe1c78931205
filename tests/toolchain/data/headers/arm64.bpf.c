/* Probes of an arm64 kernel (compiled with -D__TARGET_ARCH_arm64): user_pt_regs, eight register
 * arguments, orig_x0 for the first syscall argument. */
#include "types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

long seen;
unsigned long ret_ip;

SEC("kprobe/eight")
int BPF_KPROBE(eight, long a, long b, long c, long d, long e, long f, long g, long h)
{
	seen = a + b + c + d + e + f + g + h;
	BPF_KPROBE_READ_RET_IP(ret_ip, ctx);
	return 0;
}

SEC("ksyscall/pwrite64")
int BPF_KSYSCALL(on_pwrite, int fd, const void *buf, unsigned long n, long pos, long x, long y)
{
	seen = fd + (long)buf + n + pos + x + y;
	return 0;
}

SEC("kretprobe/eight")
int BPF_KRETPROBE(eight_ret, long ret)
{
	seen = ret + PT_REGS_SP(ctx) + PT_REGS_IP(ctx) + PT_REGS_FP(ctx) + PT_REGS_RC_CORE(ctx);
	return 0;
}
