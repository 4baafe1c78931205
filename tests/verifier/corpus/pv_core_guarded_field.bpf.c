/* OK: the read of a field this kernel lacks sits behind bpf_core_field_exists(), which
 * relocates to 0: the poisoned read is dead code and never verified. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___pv {
	int pv_no_such_counter;
	int pid;
} __attribute__((preserve_access_index));

int last = 0;

SEC("tracepoint/syscalls/sys_enter_getpid")
int pv_core_guarded_field(void *ctx)
{
	struct task_struct___pv *t = (void *)bpf_get_current_task();

	if (bpf_core_field_exists(t->pv_no_such_counter))
		last = BPF_CORE_READ(t, pv_no_such_counter);
	else
		last = BPF_CORE_READ(t, pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
