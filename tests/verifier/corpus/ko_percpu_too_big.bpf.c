/* MISTAKE: bpf_percpu_obj_new of a 640-byte struct (the limit is 512). */
#include "ko_common.h"

struct big {
	__u64 v[80];
};

SEC("tc")
int ko_percpu_too_big(struct __sk_buff *skb)
{
	struct big *c = percpu_new(struct big);

	if (!c)
		return 0;
	percpu_drop(c);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
