/* MISTAKE: an allocated object's list head is read as plain memory. */
#include "gr_common.h"

struct holder {
	struct bpf_spin_lock lock;
	struct bpf_list_head items holds(job, link);
};

SEC("tc")
int gr_list_head_direct(void *ctx)
{
	struct holder *h = new_obj(struct holder);
	struct job *j = new_obj(struct job);
	__u64 v;

	if (j)
		drop_obj(j);
	if (!h)
		return 0;
	v = *(__u64 *)&h->items;
	drop_obj(h);
	return v;
}

char LICENSE[] SEC("license") = "GPL";
