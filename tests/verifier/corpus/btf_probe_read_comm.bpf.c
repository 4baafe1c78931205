/* OK: bpf_probe_read_kernel() copies an array member of a BTF-typed task into the stack. */
#include "btf_kernel_types.h"

char name[16] = {};

SEC("tp_btf/sched_switch")
int BPF_PROG(btf_probe_read_comm, bool preempt, struct task_struct *prev)
{
	char buf[16];

	if (bpf_probe_read_kernel(buf, sizeof(buf), prev->comm) == 0)
		__builtin_memcpy(name, buf, sizeof(buf));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
