/* OK: the copies of the first four CPUs are summed.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

__u64 total;

SEC("tc")
int pcpu_per_cpu_sum(struct __sk_buff *skb)
{
	struct stats percpu_kptr *p;
	__u64 sum = 0;
	int cpu;

	HOLDER(h);
	p = h->pc;
	if (!p)
		return 0;
	for (cpu = 0; cpu < 4; cpu++) {
		struct stats *s = bpf_per_cpu_ptr(p, cpu);

		if (s)
			sum += s->packets;
	}
	total = sum;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
