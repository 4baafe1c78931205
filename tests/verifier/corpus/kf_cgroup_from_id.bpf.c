/* OK: a cgroup reference by id, released after a NULL check. */
#include "kf_common.h"

SEC("cgroup_skb/egress")
int kf_cgroup_from_id(struct __sk_buff *skb)
{
	struct cgroup *cg = bpf_cgroup_from_id(1);

	if (cg)
		bpf_cgroup_release(cg);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
