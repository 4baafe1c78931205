/* MISTAKE: one CPU's copy (from bpf_this_cpu_ptr) is freed as if it were the per-CPU object.
 * needs: clang >= 18 (per-CPU kptr type tags) */
#include "pcpu_common.h"

SEC("tc")
int pcpu_drop_cpu_copy(struct __sk_buff *skb)
{
	THIS_CPU_STATS(s);
	percpu_drop(s);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
