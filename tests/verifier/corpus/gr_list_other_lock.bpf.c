/* MISTAKE: the lock held is another element's: the list of element 1 is guarded by its own lock. */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

SEC("tc")
int gr_list_other_lock(void *ctx)
{
	struct jobq *a = elem(&queues, 0), *b = elem(&queues, 1);
	struct bpf_list_node *n;

	keep_type(struct job);

	if (!a || !b)
		return 0;
	bpf_spin_lock(&a->lock);
	n = bpf_list_pop_front(&b->jobs);
	bpf_spin_unlock(&a->lock);
	if (n)
		drop_obj(owner_of(n, struct job, link));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
