/* MISTAKE: the node bpf_rbtree_remove returned may be NULL and is added back unchecked. */
#include "gr_common.h"

ARRAY_OF(taskq, trees);

SEC("tc")
int gr_rbtree_unchecked_node(void *ctx)
{
	struct taskq *q = elem(&trees, 0);
	struct bpf_rb_node *first, *gone;

	keep_type(struct task);

	if (!q)
		return 0;
	bpf_spin_lock(&q->lock);
	first = bpf_rbtree_first(&q->tasks);
	if (!first) {
		bpf_spin_unlock(&q->lock);
		return 0;
	}
	gone = bpf_rbtree_remove(&q->tasks, first);
	tree_add(&q->tasks, gone, earlier);
	bpf_spin_unlock(&q->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
