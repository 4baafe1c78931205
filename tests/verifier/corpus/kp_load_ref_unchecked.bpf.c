/* MISTAKE: the kptr loaded from the map value may be NULL and is read unchecked.
 * needs: clang >= 18 (kptr type tags) */
#include "kp_common.h"

SEC("tp_btf/sched_switch")
int kp_load_ref_unchecked(void *ctx)
{
	__u32 key = 0;
	struct slot *v = bpf_map_lookup_elem(&slots, &key);
	struct task_struct *t;

	if (!v)
		return 0;
	t = v->owner;
	return t->pid;
}

char LICENSE[] SEC("license") = "GPL";
