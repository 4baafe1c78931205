/* MISTAKE: the current task (no reference held) stored with bpf_kptr_xchg.
 * needs: clang >= 18 (kptr type tags) */
#include "kp_xchg_common.h"

SEC("tp_btf/sched_switch")
int kp_xchg_unreferenced(void *ctx)
{
	__u32 key = 0;
	struct slot *v = bpf_map_lookup_elem(&slots, &key);
	struct task_struct *t, *old;

	if (!v)
		return 0;
	old = bpf_kptr_xchg(&v->owner, (struct task_struct *)bpf_get_current_task_btf());
	if (old)
		bpf_task_release(old);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
