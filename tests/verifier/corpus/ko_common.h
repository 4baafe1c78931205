/* Shared by the ko_*.bpf.c corpus programs: bpf_obj_new and friends, the casts. */
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

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

struct sk_buff {
	unsigned int len;
} __attribute__((preserve_access_index));
