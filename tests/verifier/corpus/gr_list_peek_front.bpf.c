/* OK: the first job is read in place (a non-owning reference) while the lock is held. */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

SEC("tc")
int gr_list_peek_front(void *ctx)
{
	struct bpf_list_node *n;
	struct jobq *q = elem(&queues, 1);
	__u32 prio = 0;

	keep_type(struct job);

	if (!q)
		return 0;
	bpf_spin_lock(&q->lock);
	n = bpf_list_front(&q->jobs);
	if (n) {
		struct job *j = owner_of(n, struct job, link);

		j->prio++;
		prio = j->prio;
	}
	bpf_spin_unlock(&q->lock);
	return prio;
}

char LICENSE[] SEC("license") = "GPL";
