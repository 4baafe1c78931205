/* MISTAKE: the same resilient lock taken twice on one path: a certain deadlock the verifier
 * refuses at once. */
#include "gr2_common.h"

ARRAY_OF(rjobq, rqueues);

SEC("tc")
int gr2_res_lock_twice(void *ctx)
{
	RQUEUE(q, 0);

	if (bpf_res_spin_lock(&q->lock))
		return 0;
	if (bpf_res_spin_lock(&q->lock)) {
		bpf_res_spin_unlock(&q->lock);
		return 0;
	}
	bpf_res_spin_unlock(&q->lock);
	bpf_res_spin_unlock(&q->lock);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
