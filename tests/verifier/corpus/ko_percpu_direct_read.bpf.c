/* MISTAKE: a per-CPU object is read directly (it needs bpf_per_cpu_ptr). */
#include "ko_common.h"

SEC("tc")
int ko_percpu_direct_read(struct __sk_buff *skb)
{
	struct item *c = percpu_new(struct item);
	int v;

	if (!c)
		return 0;
	v = c->key;
	percpu_drop(c);
	return v;
}

char LICENSE[] SEC("license") = "GPL";
