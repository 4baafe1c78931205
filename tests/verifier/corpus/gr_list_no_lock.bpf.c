/* MISTAKE: a job is pushed on the list without holding the map value's bpf_spin_lock. */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

SEC("tc")
int gr_list_no_lock(void *ctx)
{
	QUEUE_AND_NEW_JOB(q, j);

	push_back(&q->jobs, &j->link);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
