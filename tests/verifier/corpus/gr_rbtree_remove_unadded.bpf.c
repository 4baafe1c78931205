/* OK: a task the program owns (never added) may be passed to bpf_rbtree_remove: nothing is removed. */
#include "gr_common.h"

ARRAY_OF(taskq, trees);

SEC("tc")
int gr_rbtree_remove_unadded(void *ctx)
{
	struct taskq *q = elem(&trees, 0);
	struct bpf_rb_node *gone;
	struct task *t;

	if (!q)
		return 0;
	t = new_obj(struct task);
	if (!t)
		return 0;
	bpf_spin_lock(&q->lock);
	gone = bpf_rbtree_remove(&q->tasks, &t->rb);
	bpf_spin_unlock(&q->lock);
	drop_obj(t);
	if (gone)
		drop_obj(owner_of(gone, struct task, rb));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
