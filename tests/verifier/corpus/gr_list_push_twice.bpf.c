/* MISTAKE: the same job is pushed twice: after the first push the program no longer owns it. */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

SEC("tc")
int gr_list_push_twice(void *ctx)
{
	QUEUE_AND_NEW_JOB(q, j);

	bpf_spin_lock(&q->lock);
	push_front(&q->jobs, &j->link);
	push_back(&q->jobs, &j->link);
	bpf_spin_unlock(&q->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
