/* bpf_helpers.h and bpf_endian.h in use (libbpf 1.1 names). */
#include "types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct value {
	long count;
	struct task_struct __kptr *task;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} values SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, long);
} inner1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner1 },
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jumps SEC(".maps");

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_JIT __kconfig __weak;
extern enum libbpf_tristate CONFIG_BPF_LSM __kconfig __weak;
extern const void bpf_prog_active __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

long result;
char buf[64];

SEC("kprobe/printing")
int printing(void *ctx)
{
	long a = result, b = a * 3;

	bpf_printk("no arguments");
	bpf_printk("one %ld", a);
	bpf_printk("three %ld %ld %ld", a, b, a + b);
	bpf_printk("four %ld %ld %ld %ld", a, b, a + b, a - b);
	bpf_printk("seven %d %d %d %d %d %d %d", 1, 2, 3, 4, 5, 6, (int)a);
	result = BPF_SNPRINTF(buf, sizeof(buf), "%d-%ld-%s", 7, b, "x");
	return 0;
}

SEC("kprobe/externs")
int externs(void *ctx)
{
	result = LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 15, 300);
	if (CONFIG_BPF_JIT)
		result += 1;
	if (CONFIG_BPF_LSM == TRI_MODULE)
		result += 2;
	result += (long)&bpf_prog_active;
	return 0;
}

SEC("tp_btf/task_newtask")
int kptrs(unsigned long long *ctx)
{
	struct task_struct *task = (void *)ctx[0], *acquired, *old;
	struct value *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&values, &key);
	if (!v)
		return 0;
	acquired = bpf_task_acquire(task);
	if (!acquired)
		return 0;
	old = bpf_kptr_xchg(&v->task, acquired);
	if (old)
		bpf_task_release(old);
	return 0;
}

SEC("kprobe/endian")
int endian(void *ctx)
{
	__u32 x = result;

	switch (bpf_htons((__u16)x)) {
	case bpf_htons(0x0800):
		result = bpf_ntohl(x) + bpf_htonl(0x0a000001);
		break;
	case bpf_ntohs(0x86dd):
		result = bpf_cpu_to_be64(x) + bpf_be64_to_cpu(0x1122334455667788ULL);
		break;
	}
	return 0;
}

struct holder {
	long pad;
	long member;
};

SEC("kprobe/tail")
int tail(void *ctx)
{
	struct holder h = { .member = result };
	long *m = &h.member;
	struct holder *back = container_of(m, struct holder, member);
	long v = back->member;

	barrier_var(v);
	if (v > 0)
		bpf_tail_call_static(ctx, &jumps, 2);
	barrier();
	if (v < -5)
		bpf_tail_call(ctx, &jumps, (__u32)v);
	return 0;
}

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %s\n", task->pid, task->comm);
	BPF_SEQ_PRINTF(seq, "header\n");
	return 0;
}
