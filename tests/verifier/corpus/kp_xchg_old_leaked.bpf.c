/* MISTAKE: the task bpf_kptr_xchg hands back is never released.
 * needs: clang >= 18 (kptr type tags) */
#include "kp_xchg_common.h"

SEC("tp_btf/sched_switch")
int kp_xchg_old_leaked(void *ctx)
{
	__u32 key = 0;
	struct slot *v = bpf_map_lookup_elem(&slots, &key);
	struct task_struct *t, *old;

	if (!v)
		return 0;
	t = bpf_task_from_pid(1);
	if (!t)
		return 0;
	old = bpf_kptr_xchg(&v->owner, t);
	return old != 0;
}

char LICENSE[] SEC("license") = "GPL";
