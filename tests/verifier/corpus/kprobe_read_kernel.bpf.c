/* OK: a kprobe reads a function argument from pt_regs and dereferences it with
 * bpf_probe_read_kernel() into a stack buffer. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

__u64 seen = 0;

SEC("kprobe/do_unlinkat")
int kprobe_read_kernel(struct pt_regs *ctx)
{
	const void *name = (const void *)ctx->rsi;
	char buf[32];

	if (bpf_probe_read_kernel(buf, sizeof(buf), name) == 0 && buf[0] == '/')
		__sync_fetch_and_add(&seen, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
