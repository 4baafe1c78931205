/* kptrs in map values: xchg stash.
 * needs: clang >= 18 (kptr type tags) */
#include "kp_xchg_common.h"

SEC("tp_btf/sched_switch")
int kp_xchg_stash(void *ctx)
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
	if (old)
		bpf_task_release(old);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
