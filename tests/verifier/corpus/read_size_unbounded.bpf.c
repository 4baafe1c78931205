/* MISTAKE: the number of bytes to copy comes from the kernel unchecked, so it has no upper
 * bound the verifier can see. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

__u64 out = 0;

SEC("kprobe/do_unlinkat")
int read_size_unbounded(struct pt_regs *ctx)
{
	char buf[64];
	__u32 len = ctx->rdx;

	bpf_probe_read_kernel(buf, len, (void *)ctx->rsi);
	out = buf[0];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
