/* OK: a global rbtree and its lock in one data section; the earliest task is peeked under the lock. */
#include "gr_common.h"

#define private(name) SEC(".data." #name) __attribute__((visibility("hidden"), aligned(8)))
private(B) struct bpf_spin_lock tree_lock;
private(B) struct bpf_rb_root tree holds(task, rb);

SEC("tc")
int gr_global_rbtree(void *ctx)
{
	struct task *t = new_obj(struct task);
	struct bpf_rb_node *first;
	__u32 cpu = 0;

	if (!t)
		return 0;
	t->cpu = bpf_get_smp_processor_id();
	bpf_spin_lock(&tree_lock);
	tree_add(&tree, &t->rb, earlier);
	first = bpf_rbtree_first(&tree);
	if (first)
		cpu = owner_of(first, struct task, rb)->cpu;
	bpf_spin_unlock(&tree_lock);
	return cpu;
}

char LICENSE[] SEC("license") = "GPL";
