/* MISTAKE: the rbtree's less() callback runs with the lock held and may not release it. */
#include "gr_common.h"

#define private(name) SEC(".data." #name) __attribute__((visibility("hidden"), aligned(8)))
private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot holds(task, rb);

static _Bool unlocking(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	bpf_spin_unlock(&glock);
	return 0;
}

SEC("tc")
int gr_rbtree_cb_unlocks(void *ctx)
{
	struct task *t = new_obj(struct task);

	if (!t)
		return 0;
	bpf_spin_lock(&glock);
	tree_add(&groot, &t->rb, unlocking);
	bpf_spin_unlock(&glock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
