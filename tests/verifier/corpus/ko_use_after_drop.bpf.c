/* MISTAKE: a field of the object is read after bpf_obj_drop. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

extern void *bpf_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __ksym;
extern void bpf_obj_drop_impl(void *p__alloc, void *meta__ign) __ksym;
extern void *bpf_percpu_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __ksym;
extern void bpf_percpu_obj_drop_impl(void *p__alloc, void *meta__ign) __ksym;
#define obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define obj_drop(p) bpf_obj_drop_impl(p, NULL)
#define percpu_new(type) ((type *)bpf_percpu_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define percpu_drop(p) bpf_percpu_obj_drop_impl(p, NULL)

struct item {
	__u64 key;
	__u32 val;
	__u32 flags;
};

SEC("tc")
int ko_use_after_drop(struct __sk_buff *skb)
{
	struct item *it = obj_new(struct item);

	if (!it)
		return 0;
	obj_drop(it);
	return it->val;
}

char LICENSE[] SEC("license") = "GPL";
