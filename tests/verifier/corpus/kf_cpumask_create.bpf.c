/* OK: a cpumask is created (a reference, maybe NULL), a CPU set and tested through the
 * struct cpumask it begins with, and released. */
#include "kf_cpumask.h"

SEC("tp_btf/sched_switch")
int kf_cpumask_create(void *ctx)
{
	struct bpf_cpumask *mask = bpf_cpumask_create();
	int set;

	if (!mask)
		return 0;
	bpf_cpumask_set_cpu(0, mask);
	set = bpf_cpumask_test_cpu(0, (const struct cpumask *)mask);
	set += bpf_cpumask_weight((const struct cpumask *)mask);
	bpf_cpumask_release(mask);
	return set;
}

char LICENSE[] SEC("license") = "GPL";
