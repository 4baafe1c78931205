/* OK: an allocated job is stashed in a map value's kptr and the previous one taken out and freed.
 * needs: clang >= 18 (kptr type tags) */
#include "gr_common.h"

struct stash {
	struct job __attribute__((btf_type_tag("kptr"))) *saved;
};

ARRAY_OF(stash, stashes);

SEC("tc")
int gr_stash_local_kptr(void *ctx)
{
	struct stash *s = elem(&stashes, 0);
	struct job *j, *old;

	if (!s)
		return 0;
	j = new_obj(struct job);
	if (!j)
		return 0;
	j->id = 42;
	old = bpf_kptr_xchg(&s->saved, j);
	if (old)
		drop_obj(old);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
