/* OK: a job is pushed to a list under its resilient lock; taking the lock may fail (r0 != 0), and
 * then the job is freed without touching the list. */
#include "gr2_common.h"

ARRAY_OF(rjobq, rqueues);

SEC("tc")
int gr2_res_lock_push(void *ctx)
{
	RQUEUE(q, 0);
	struct job *j = new_obj(struct job);

	if (!j)
		return 0;
	if (bpf_res_spin_lock(&q->lock)) {
		drop_obj(j);
		return 0;
	}
	push_front(&q->jobs, &j->link);
	bpf_res_spin_unlock(&q->lock);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
