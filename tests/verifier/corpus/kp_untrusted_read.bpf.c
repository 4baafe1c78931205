/* kptrs in map values: untrusted read.
 * needs: clang >= 18 (kptr type tags) */
#include "kp_common.h"

SEC("tp_btf/sched_switch")
int kp_untrusted_read(void *ctx)
{
	__u32 key = 0;
	struct slot *v = bpf_map_lookup_elem(&slots, &key);
	struct task_struct *t;

	if (!v)
		return 0;
	t = v->seen;
	if (!t)
		return 0;
	return t->tgid;
}

char LICENSE[] SEC("license") = "GPL";
