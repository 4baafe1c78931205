/* MISTAKE: bpf_get_current_comm() is told the buffer holds 16 bytes but it has only 8. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 first = 0;

SEC("tracepoint/syscalls/sys_enter_execve")
int comm_buffer_too_small(void *ctx)
{
	char comm[8];

	bpf_get_current_comm(comm, 16);
	first = *(__u64 *)comm;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
