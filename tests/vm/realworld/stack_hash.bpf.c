// The stack ids the kernel hands out: a raw tracepoint on sys_enter stores the calling
// thread's kernel and user stacks (what profilers do on a timer).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

const volatile __u32 target_tid = 0;
__s64 kern_id = -1, user_id = -1;

SEC("raw_tp/sys_enter")
int on_enter(void *ctx)
{
	if ((__u32)bpf_get_current_pid_tgid() != target_tid || kern_id >= 0)
		return 0;
	kern_id = bpf_get_stackid(ctx, &stacks, 0);
	user_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
