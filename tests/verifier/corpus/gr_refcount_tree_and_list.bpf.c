/* OK: a refcounted node is put in a tree and, through a second reference, in a list. */
#include "gr_common.h"

struct shared {
	struct bpf_rb_node rb;
	struct bpf_list_node link;
	struct bpf_refcount ref;
	__u64 key;
};

struct index {
	struct bpf_spin_lock lock;
	struct bpf_rb_root tree holds(shared, rb);
	struct bpf_list_head order holds(shared, link);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct index);
} indexes SEC(".maps");

static _Bool by_key(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return owner_of(a, struct shared, rb)->key < owner_of(b, struct shared, rb)->key;
}

SEC("tc")
int gr_refcount_tree_and_list(void *ctx)
{
	__u32 zero = 0;
	struct index *ix = bpf_map_lookup_elem(&indexes, &zero);
	struct shared *s, *again;

	if (!ix)
		return 0;
	s = new_obj(struct shared);
	if (!s)
		return 0;
	s->key = 3;
	again = acquire_ref(s);
	bpf_spin_lock(&ix->lock);
	tree_add(&ix->tree, &s->rb, by_key);
	push_back(&ix->order, &again->link);
	bpf_spin_unlock(&ix->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
