/* OK: two queues' resilient locks held at once, released in the reverse order, a job moved from
 * the first queue to the second meanwhile. */
#include "gr2_common.h"

ARRAY_OF(rjobq, rqueues);

SEC("tc")
int gr2_res_lock_nested(void *ctx)
{
	RQUEUE(a, 0);
	RQUEUE(b, 1);
	struct bpf_list_node *n;

	if (bpf_res_spin_lock(&a->lock))
		return 0;
	if (bpf_res_spin_lock(&b->lock)) {
		bpf_res_spin_unlock(&a->lock);
		return 0;
	}
	n = bpf_list_pop_front(&a->jobs);
	if (n)
		bpf_list_push_back_impl(&b->jobs, n, NULL, 0);   /* both lists' locks are held: fine */
	bpf_res_spin_unlock(&b->lock);
	bpf_res_spin_unlock(&a->lock);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
