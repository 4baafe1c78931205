/* kptrs in map values: load ref acquire.
 * needs: clang >= 18 (kptr type tags) */
#include "kp_common.h"

SEC("tp_btf/sched_switch")
int kp_load_ref_acquire(void *ctx)
{
	__u32 key = 0;
	struct slot *v = bpf_map_lookup_elem(&slots, &key);
	struct task_struct *t;

	if (!v)
		return 0;
	t = v->owner;
	if (!t)
		return 0;
	t = bpf_task_acquire(t);
	if (!t)
		return 0;
	bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
