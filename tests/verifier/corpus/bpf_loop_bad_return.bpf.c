/* MISTAKE: a bpf_loop() callback must return 0 (continue) or 1 (stop). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static int step(__u32 index, void *data)
{
	return 2;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int bpf_loop_bad_return(void *ctx)
{
	bpf_loop(10, step, 0, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
