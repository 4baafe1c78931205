// SPDX-License-Identifier: GPL-2.0
/* runqueue: how many tasks wait on CPU 0's run queue at each context switch, read through the
 * kernel's per-CPU `runqueues` variable: a typed __ksym (its type comes from the kernel's BTF).
 * Kernels built without CONFIG_KALLSYMS_ALL cannot give its address, and refuse the load. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

extern struct rq runqueues __ksym __weak;

__u64 switches = 0;
__u64 max_nr_running = 0;

SEC("raw_tp/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct rq *rq;
	__u64 n;

	__sync_fetch_and_add(&switches, 1);
	if (!&runqueues)
		return 0;
	rq = bpf_per_cpu_ptr(&runqueues, 0);
	if (!rq)
		return 0;
	n = BPF_CORE_READ(rq, nr_running);
	if (n > max_nr_running)
		max_nr_running = n;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
