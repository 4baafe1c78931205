/* MISTAKE: the job belongs to the list once pushed: after the unlock its pointer is no longer valid. */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

SEC("tc")
int gr_list_use_after_unlock(void *ctx)
{
	struct jobq *q = elem(&queues, 0);
	struct job *j;

	if (!q)
		return 0;
	j = new_obj(struct job);
	if (!j)
		return 0;
	bpf_spin_lock(&q->lock);
	push_front(&q->jobs, &j->link);
	j->prio = 2;
	bpf_spin_unlock(&q->lock);
	return j->prio;
}

char LICENSE[] SEC("license") = "GPL";
