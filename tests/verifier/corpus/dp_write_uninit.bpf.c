/* MISTAKE: bpf_dynptr_write on a dynptr no helper initialized. */
#include "dp_common.h"

SEC("tracepoint/syscalls/sys_enter_getpid")
int dp_write_uninit(void *ctx)
{
	struct bpf_dynptr rec;
	__u64 pid = bpf_get_current_pid_tgid();

	bpf_dynptr_write(&rec, 0, &pid, sizeof(pid), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
