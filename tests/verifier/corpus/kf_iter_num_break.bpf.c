/* OK: leaving an iterator loop early with break still destroys the iterator (the cleanup
 * attribute runs bpf_iter_num_destroy on every way out of the scope). */
#include "kf_common.h"

SEC("socket")
int kf_iter_num_break(struct __sk_buff *skb)
{
	int i, found = -1;

	kf_for(i, 0, 64) {
		if (i * i > (int)skb->len) {
			found = i;
			break;
		}
	}
	return found;
}

char LICENSE[] SEC("license") = "GPL";
