/* MISTAKE: the iterator's value is used as an index into a stack array without a bounds
 * check: the verifier does not know the range bpf_iter_num_new was given. */
#include "kf_common.h"

SEC("tc")
int kf_iter_num_unbounded_index(struct __sk_buff *skb)
{
	volatile char buf[16] = {};
	int i, sum = 0;

	kf_for(i, 0, 16)
		sum += buf[i];
	return sum;
}

char LICENSE[] SEC("license") = "GPL";
