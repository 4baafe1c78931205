/* MISTAKE: a task is pushed on the list of jobs (the list holds struct job nodes only). */
#include "gr_common.h"

ARRAY_OF(jobq, queues);

struct both {
	struct bpf_list_node first;
	struct bpf_list_node second;
	struct bpf_refcount ref;
};

SEC("tc")
int gr_list_wrong_node(void *ctx)
{
	struct jobq *q = elem(&queues, 0);
	struct both *b;

	keep_type(struct job);

	if (!q)
		return 0;
	b = new_obj(struct both);
	if (!b)
		return 0;
	bpf_spin_lock(&q->lock);
	push_front(&q->jobs, &b->second);
	bpf_spin_unlock(&q->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
