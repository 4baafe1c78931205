/* MISTAKE: bpf_obj_new is called while the lock is held (only the list/rbtree kfuncs may be). */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

SEC("tc")
int gr_alloc_under_lock(void *ctx)
{
	struct jobq *q = elem(&queues, 0);
	struct job *j;

	if (!q)
		return 0;
	bpf_spin_lock(&q->lock);
	j = new_obj(struct job);
	if (j)
		push_back(&q->jobs, &j->link);
	bpf_spin_unlock(&q->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
