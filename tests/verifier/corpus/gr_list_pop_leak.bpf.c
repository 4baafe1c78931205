/* MISTAKE: the popped job is never freed nor pushed back: its reference leaks. */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

SEC("tc")
int gr_list_pop_leak(void *ctx)
{
	struct jobq *q = elem(&queues, 0);
	struct bpf_list_node *n;

	keep_type(struct job);

	if (!q)
		return 0;
	bpf_spin_lock(&q->lock);
	n = bpf_list_pop_back(&q->jobs);
	bpf_spin_unlock(&q->lock);
	if (!n)
		return 0;
	return owner_of(n, struct job, link)->prio;
}

char LICENSE[] SEC("license") = "GPL";
