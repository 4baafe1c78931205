/* MISTAKE: bpf_get_current_comm() needs a size of at least one byte; a size that may be 0 is
 * refused. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 first = 0;

SEC("tracepoint/syscalls/sys_enter_execve")
int comm_size_maybe_zero(void *ctx)
{
	char comm[16];
	__u32 n = bpf_get_prandom_u32() & 15;

	bpf_get_current_comm(comm, n);
	first = comm[0];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
