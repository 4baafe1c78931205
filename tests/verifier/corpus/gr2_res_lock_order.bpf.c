/* MISTAKE: resilient locks are released in the reverse order of taking; the first queue's lock
 * is released while the second's, taken after it, is still held. */
#include "gr2_common.h"

ARRAY_OF(rjobq, rqueues);

SEC("tc")
int gr2_res_lock_order(void *ctx)
{
	RQUEUE(a, 0);
	RQUEUE(b, 1);

	if (bpf_res_spin_lock(&a->lock))
		return 0;
	if (bpf_res_spin_lock(&b->lock)) {
		bpf_res_spin_unlock(&a->lock);
		return 0;
	}
	bpf_res_spin_unlock(&a->lock);
	bpf_res_spin_unlock(&b->lock);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
