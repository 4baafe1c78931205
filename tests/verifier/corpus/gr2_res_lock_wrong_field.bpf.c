/* MISTAKE: the value's list head is given to bpf_res_spin_lock() instead of its lock: the lock
 * argument must point at the struct bpf_res_spin_lock of the value. */
#include "gr2_common.h"

ARRAY_OF(rjobq, rqueues);

SEC("tc")
int gr2_res_lock_wrong_field(void *ctx)
{
	RQUEUE(q, 0);

	if (bpf_res_spin_lock((struct bpf_res_spin_lock *)&q->jobs))
		return 0;
	bpf_res_spin_unlock(&q->lock);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
