/* kptrs in map values: load ref checked.
 * needs: clang >= 18 (kptr type tags) */
#include "kp_common.h"

SEC("tp_btf/sched_switch")
int kp_load_ref_checked(void *ctx)
{
	__u32 key = 0;
	struct slot *v = bpf_map_lookup_elem(&slots, &key);
	struct task_struct *t;

	if (!v)
		return 0;
	t = v->owner;
	if (!t)
		return 0;
	return t->pid;
}

char LICENSE[] SEC("license") = "GPL";
