/* OK: a tracepoint program reads fields of its record through the context pointer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sys_enter_openat_args {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	__u64 dfd;
	__u64 filename;
	__u64 flags;
	__u64 mode;
};

__u64 creates = 0;

SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint_ctx_fields(struct sys_enter_openat_args *ctx)
{
	if (ctx->flags & 0100)
		__sync_fetch_and_add(&creates, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
