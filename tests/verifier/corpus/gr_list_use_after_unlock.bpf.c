/* MISTAKE: the job belongs to the list once pushed: after the unlock its pointer is no longer valid. */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

SEC("tc")
int gr_list_use_after_unlock(void *ctx)
{
	QUEUE_AND_NEW_JOB(q, j);

	bpf_spin_lock(&q->lock);
	push_front(&q->jobs, &j->link);
	j->prio = 2;
	bpf_spin_unlock(&q->lock);
	return j->prio;
}

char LICENSE[] SEC("license") = "GPL";
