/* OK: an allocated object carries its own lock and list; jobs are queued on it, then it is freed. */
#include "gr_common.h"

struct batch {
	struct bpf_spin_lock lock;
	struct bpf_list_head jobs holds(job, link);
	__u32 size;
};

SEC("tc")
int gr_list_in_object(void *ctx)
{
	struct batch *b = new_obj(struct batch);
	struct job *j;

	if (!b)
		return 0;
	j = new_obj(struct job);
	if (!j) {
		drop_obj(b);
		return 0;
	}
	bpf_spin_lock(&b->lock);
	push_front(&b->jobs, &j->link);
	bpf_spin_unlock(&b->lock);
	b->size = 1;
	drop_obj(b);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
