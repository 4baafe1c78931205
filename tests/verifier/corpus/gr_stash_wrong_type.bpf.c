/* MISTAKE: a task is stashed in a kptr that holds jobs.
 * needs: clang >= 18 (kptr type tags) */
#include "gr_common.h"

struct stash {
	struct job __attribute__((btf_type_tag("kptr"))) *saved;
};

ARRAY_OF(stash, stashes);

SEC("tc")
int gr_stash_wrong_type(void *ctx)
{
	struct stash *s = elem(&stashes, 0);
	struct task *t, *old;

	keep_type(struct job);
	if (!s)
		return 0;
	t = new_obj(struct task);
	if (!t)
		return 0;
	old = bpf_kptr_xchg(&s->saved, t);
	if (old)
		drop_obj(old);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
