/* A typed __ksym: the per-CPU run queue, found by name and type in the kernel's BTF and loaded
 * with ld_imm64 BTF_ID; bpf_this_cpu_ptr turns it into a pointer to this CPU's copy. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rq {
	int cpu;
} __attribute__((preserve_access_index));

extern const struct rq runqueues __ksym;

int cpu = -1;

SEC("raw_tp/sys_enter")
int this_rq(void *ctx)
{
	const struct rq *rq = bpf_this_cpu_ptr(&runqueues);

	cpu = rq->cpu;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
