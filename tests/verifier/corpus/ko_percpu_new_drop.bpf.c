/* allocated objects and casts: percpu new drop. */
#include "ko_common.h"

SEC("tc")
int ko_percpu_new_drop(struct __sk_buff *skb)
{
	struct item *c = percpu_new(struct item);

	if (!c)
		return 0;
	percpu_drop(c);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
