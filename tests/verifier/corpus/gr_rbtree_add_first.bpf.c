/* OK: tasks go into the map value's rbtree ordered by deadline; the earliest is taken out and freed. */
#include "gr_common.h"

ARRAY_OF(taskq, trees);

SEC("tc")
int gr_rbtree_add_first(void *ctx)
{
	struct bpf_rb_node *first, *gone;
	struct taskq *q = elem(&trees, 0);
	struct task *t;
	__u64 when = 0;

	if (!q)
		return 0;
	t = new_obj(struct task);
	if (!t)
		return 0;
	t->deadline = bpf_ktime_get_ns() + 1000;
	bpf_spin_lock(&q->lock);
	tree_add(&q->tasks, &t->rb, earlier);
	first = bpf_rbtree_first(&q->tasks);
	if (!first) {
		bpf_spin_unlock(&q->lock);
		return 0;
	}
	gone = bpf_rbtree_remove(&q->tasks, first);
	bpf_spin_unlock(&q->lock);
	if (!gone)
		return 0;
	t = owner_of(gone, struct task, rb);
	when = t->deadline;
	drop_obj(t);
	return when & 1;
}

char LICENSE[] SEC("license") = "GPL";
