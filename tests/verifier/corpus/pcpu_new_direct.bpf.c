/* MISTAKE: a per-CPU object straight from bpf_percpu_obj_new is not yet a per-CPU kptr the
 * helper takes (it must be stashed in a map value and loaded back).
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("tc")
int pcpu_new_direct(struct __sk_buff *skb)
{
	struct stats percpu_kptr *p = percpu_new(struct stats);
	struct stats *s;

	if (!p)
		return 0;
	s = bpf_this_cpu_ptr(p);
	s->packets = 1;
	percpu_drop(p);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
