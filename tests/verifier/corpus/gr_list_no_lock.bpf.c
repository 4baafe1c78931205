/* MISTAKE: a job is pushed on the list without holding the map value's bpf_spin_lock. */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

SEC("tc")
int gr_list_no_lock(void *ctx)
{
	struct jobq *q = elem(&queues, 0);
	struct job *j;

	if (!q)
		return 0;
	j = new_obj(struct job);
	if (!j)
		return 0;
	push_back(&q->jobs, &j->link);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
