/* OK: an allocated batch keeps a kptr to an allocated job; bpf_kptr_xchg() stores the new job in
 * it and hands back the previous one (none: a batch starts empty), and freeing the batch frees
 * the job it holds.
 * needs: clang >= 18 (kptr type tags) */
#include "gr2_common.h"

SEC("tc")
int gr2_kptr_in_object(void *ctx)
{
	NEW_BATCH_AND_JOB(b, j);
	struct job *old = bpf_kptr_xchg(&b->head, j);

	if (old)
		drop_obj(old);
	drop_obj(b);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
