/* MISTAKE: a per-CPU object released with bpf_obj_drop. */
#include "ko_common.h"

SEC("tc")
int ko_percpu_wrong_drop(struct __sk_buff *skb)
{
	struct item *c = percpu_new(struct item);

	if (!c)
		return 0;
	obj_drop(c);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
