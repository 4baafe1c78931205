/* MISTAKE: bpf_res_spin_lock() can fail (deadlock, timeout) and then holds nothing: unlocking
 * without checking its result unlocks a lock that may not be held. */
#include "gr2_common.h"

ARRAY_OF(rjobq, rqueues);

SEC("tc")
int gr2_res_lock_unchecked(void *ctx)
{
	RQUEUE(q, 0);

	bpf_res_spin_lock(&q->lock);
	bpf_res_spin_unlock(&q->lock);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
