/* MISTAKE: bpf_this_cpu_ptr is given the map value itself, not a per-CPU pointer.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("tc")
int pcpu_not_percpu(struct __sk_buff *skb)
{
	struct holder *c;

	HOLDER(h);
	c = bpf_this_cpu_ptr(h);
	return c->generation;
}

char LICENSE[] SEC("license") = "GPL";
