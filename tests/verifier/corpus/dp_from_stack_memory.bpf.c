/* MISTAKE: bpf_dynptr_from_mem over stack memory (only map values are accepted). */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_from_stack_memory(void *ctx)
{
	struct bpf_dynptr buf;
	char bytes[8] = {};

	bpf_dynptr_from_mem(bytes, sizeof(bytes), 0, &buf);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
