/* OK: the same copy, returning early when the length exceeds the buffer. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

__u64 out = 0;

SEC("kprobe/do_unlinkat")
int read_size_bounded(struct pt_regs *ctx)
{
	char buf[64];
	__u32 len = ctx->rdx;

	if (len > sizeof(buf))
		return 0;
	bpf_probe_read_kernel(buf, len, (void *)ctx->rsi);
	out = buf[0];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
