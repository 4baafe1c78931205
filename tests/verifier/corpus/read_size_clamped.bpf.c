/* MISTAKE: clamping a 32-bit length with `if (len > N) len = N;`.  clang compares a zero-extended
 * copy of the length but passes the original 64-bit register to the helper, so the verifier never
 * sees a bound on the register that matters.  Return early instead (read_size_bounded.bpf.c). */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

__u64 out = 0;

SEC("kprobe/do_unlinkat")
int read_size_clamped(struct pt_regs *ctx)
{
	char buf[64];
	__u32 len = ctx->rdx;

	if (len > sizeof(buf))
		len = sizeof(buf);
	bpf_probe_read_kernel(buf, len, (void *)ctx->rsi);
	out = buf[0];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
