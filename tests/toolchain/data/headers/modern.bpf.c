/* Names added up to libbpf 1.5: open-coded loops, argument tags, uptr/kptr tags, ksym checks,
 * bitfield writes, bpf_core_cast, six kprobe arguments, uprobes, a bpf_fastcall helper. */
#include "types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct user_data {
	int counter;
};

struct storage {
	struct user_data __uptr *udata;
	struct task_struct __kptr_untrusted *untrusted;
	struct user_data __percpu_kptr *percpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct storage);
} storage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 16);
	__type(value, __u32);
	__ulong(map_extra, 3);
} bloom SEC(".maps");

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

long total;

__noinline int count_ctx(void *ctx __arg_ctx, struct task_struct *t __arg_trusted,
			 int *p __arg_nonnull, long *q __arg_nullable)
{
	return ctx != 0 && t != 0 ? *p + (q ? *q : 0) : 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(loops, struct task_struct *parent, struct task_struct *child)
{
	int i, *v, n = 0;

	bpf_for(i, 0, 10)
		total += i;
	bpf_repeat(5)
		total++;
	bpf_for_each(num, v, 2, 6)
		total += *v;
	total += count_ctx(ctx, child, &n, 0);
	if (bpf_ksym_exists(bpf_task_from_pid)) {
		struct task_struct *t = bpf_task_from_pid(1);

		if (t) {
			total += t->pid;
			bpf_task_release(t);
		}
	}
	return 0;
}

SEC("kprobe/six")
int BPF_KPROBE(six, long a, long b, long c, long d, long e, long f)
{
	struct task_struct *t = bpf_core_cast((void *)a, struct task_struct);

	/* a bpf_fastcall helper: with clang >= 20, a, b and c stay in r1-r3 across it */
	total = a + b + c + bpf_get_smp_processor_id();
	total += d + e + f + t->pid;
	return 0;
}

SEC("tp_btf/bits")
int BPF_PROG(bits, struct task_struct *task)
{
	BPF_CORE_WRITE_BITFIELD(task, nice, -3);
	return 0;
}

SEC("uprobe//bin/true:main")
int BPF_UPROBE(on_main, int argc, char **argv)
{
	total = argc + (long)argv;
	return 0;
}

SEC("uretprobe//bin/true:main")
int BPF_URETPROBE(on_main_ret, int ret)
{
	total = ret;
	return 0;
}
