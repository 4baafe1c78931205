/* MISTAKE: bpf_copy_from_user_str is a sleepable kfunc; a tracepoint program does not sleep. */
#include "kf_common.h"

extern int bpf_copy_from_user_str(void *dst, __u32 dst__sz, const void *unsafe_ptr__ign,
				  __u64 flags) __ksym;

SEC("tracepoint/syscalls/sys_enter_openat")
int kf_sleepable_not_allowed(void *ctx)
{
	char buf[16];

	return bpf_copy_from_user_str(buf, sizeof(buf), (void *)0x1000, 0);
}

char LICENSE[] SEC("license") = "GPL";
