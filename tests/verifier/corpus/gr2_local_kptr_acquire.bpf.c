/* OK: a map value keeps a kptr to a refcounted tree node of the program's own struct; inside the
 * program's RCU section the loaded pointer is a non-owning reference, and a new reference taken
 * from it keeps the node alive while the program reads it.
 * needs: clang >= 18 (kptr type tags) */
#include "gr2_common.h"

struct rnode {
	long data;
	struct bpf_rb_node rb;
	struct bpf_refcount ref;
};

struct rstash {
	struct rnode kptr *saved;
};

ARRAY_OF(rstash, rstashes);

SEC("tc")
int gr2_local_kptr_acquire(void *ctx)
{
	struct rstash *s = elem(&rstashes, 0);
	struct rnode *n, *p;
	long data;

	keep_type(struct rnode);
	if (!s)
		return 0;
	n = s->saved;
	if (!n)
		return 0;
	p = acquire_ref(n);
	if (!p)
		return 0;
	data = p->data;
	drop_obj(p);
	return data > 0;
}

char LICENSE[] SEC("license") = "GPL";
