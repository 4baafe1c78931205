/* MISTAKE: reads a task_struct field this kernel does not have, through a CO-RE relocation
 * with no bpf_core_field_exists() guard: libbpf poisons the read and names the relocation. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___pv {
	int pv_no_such_counter;
} __attribute__((preserve_access_index));

int last = 0;

SEC("tracepoint/syscalls/sys_enter_getpid")
int pv_core_unresolved_field(void *ctx)
{
	struct task_struct___pv *t = (void *)bpf_get_current_task();

	last = BPF_CORE_READ(t, pv_no_such_counter);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
