/* MISTAKE: an untrusted kptr (__kptr_untrusted) passed to bpf_task_acquire, which needs an RCU pointer.
 * needs: clang >= 18 (kptr type tags) */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __kptr __attribute__((btf_type_tag("kptr")))
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct slot {
	__u64 hits;
	struct task_struct __kptr *owner;
	struct task_struct __kptr_untrusted *seen;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

SEC("tp_btf/sched_switch")
int kp_untrusted_acquire(void *ctx)
{
	__u32 key = 0;
	struct slot *v = bpf_map_lookup_elem(&slots, &key);
	struct task_struct *t;

	if (!v)
		return 0;
	t = v->seen;
	if (!t)
		return 0;
	t = bpf_task_acquire(t);
	if (!t)
		return 0;
	bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
