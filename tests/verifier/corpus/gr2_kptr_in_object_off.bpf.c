/* MISTAKE: bpf_kptr_xchg() is given the batch's id instead of its kptr member: its destination must
 * be a referenced kptr field of the object.
 * needs: clang >= 18 (kptr type tags) */
#include "gr2_common.h"

SEC("tc")
int gr2_kptr_in_object_off(void *ctx)
{
	NEW_BATCH_AND_JOB(b, j);
	struct job *old = bpf_kptr_xchg((struct job **)&b->id, j);

	if (old)
		drop_obj(old);
	drop_obj(b);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
