/* OK: a stack array filled and read in bounded loops with a variable index (privileged
 * loaders may use variable stack offsets). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u32 result = 0;

SEC("tracepoint/syscalls/sys_enter_openat")
int stack_array_loop(void *ctx)
{
	__u32 buf[8];
	__u32 n = bpf_get_prandom_u32() & 7, acc = 0;

	for (int i = 0; i < 8; i++)
		buf[i] = i * 3;
	acc = buf[n];
	result = acc;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
