/* OK: a job is allocated, queued on a map value's list under its lock, popped again and freed. */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

SEC("tc")
int gr_list_push_pop(void *ctx)
{
	struct bpf_list_node *n;
	struct jobq *q = elem(&queues, 0);
	struct job *j;
	int ret = 0;

	if (!q)
		return 0;
	j = new_obj(struct job);
	if (!j)
		return 0;
	j->id = 7;
	bpf_spin_lock(&q->lock);
	push_back(&q->jobs, &j->link);
	q->count++;
	bpf_spin_unlock(&q->lock);

	bpf_spin_lock(&q->lock);
	n = bpf_list_pop_front(&q->jobs);
	bpf_spin_unlock(&q->lock);
	if (!n)
		return 1;
	j = owner_of(n, struct job, link);
	ret = j->id;
	drop_obj(j);
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
