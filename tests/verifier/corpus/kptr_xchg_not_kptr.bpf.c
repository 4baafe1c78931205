/* MISTAKE: bpf_kptr_xchg on a map value offset that holds no kptr (the value type has no kptr-tagged field). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef __kptr_untrusted
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))
#endif
#define __kptr_ref_tag __attribute__((btf_type_tag("kptr")))

struct task_struct { int pid; };

struct kval { __u64 hits; struct task_struct __kptr_ref_tag *owner; struct task_struct __kptr_untrusted *seen; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kval);
} kptrs SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int kptr_xchg_not_kptr(void *ctx)
{
	__u32 key = 0;
	struct kval *v = bpf_map_lookup_elem(&kptrs, &key);

	if (!v)
		return 0;
	bpf_kptr_xchg(&v->hits, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
