/* OK: two nested iterator loops, each with its own iterator on the stack. */
#include "kf_common.h"

SEC("tc")
int kf_iter_num_nested(struct __sk_buff *skb)
{
	int i, j, n = 0;

	kf_for(i, 0, 8) {
		kf_for(j, 0, 4)
			n += i * j;
	}
	return n & 1;
}

char LICENSE[] SEC("license") = "GPL";
