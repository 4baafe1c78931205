/* Shared by the gr_*.bpf.c corpus programs: BPF linked lists, rbtrees and refcounted objects.
 * Older uapi headers lack the graph structs; newer ones have them: the header's own are renamed
 * away and these (the kernel's sizes and alignment) take their place. */
#define bpf_list_head gr_uapi_list_head
#define bpf_list_node gr_uapi_list_node
#define bpf_rb_root gr_uapi_rb_root
#define bpf_rb_node gr_uapi_rb_node
#define bpf_refcount gr_uapi_refcount
#include <linux/bpf.h>
#undef bpf_list_head
#undef bpf_list_node
#undef bpf_rb_root
#undef bpf_rb_node
#undef bpf_refcount
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct bpf_list_head { __u64 opaque[2]; } __attribute__((aligned(8)));
struct bpf_list_node { __u64 opaque[3]; } __attribute__((aligned(8)));
struct bpf_rb_root { __u64 opaque[2]; } __attribute__((aligned(8)));
struct bpf_rb_node { __u64 opaque[4]; } __attribute__((aligned(8)));
struct bpf_refcount { __u32 opaque; } __attribute__((aligned(4)));

/* "contains:<struct>:<member>": the type of the nodes a list head or rbtree root holds */
#define holds(type, member) __attribute__((btf_decl_tag("contains:" #type ":" #member)))

extern void *bpf_obj_new_impl(__u64 local_type_id__k, void *meta__ign) __ksym;
extern void bpf_obj_drop_impl(void *p__alloc, void *meta__ign) __ksym;
extern void *bpf_refcount_acquire_impl(void *p__refcounted_kptr, void *meta__ign) __ksym;
extern int bpf_list_push_front_impl(struct bpf_list_head *head, struct bpf_list_node *node,
				    void *meta__ign, __u64 off) __ksym;
extern int bpf_list_push_back_impl(struct bpf_list_head *head, struct bpf_list_node *node,
				   void *meta__ign, __u64 off) __ksym;
extern struct bpf_list_node *bpf_list_pop_front(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_pop_back(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_front(struct bpf_list_head *head) __ksym;
extern int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node,
			       _Bool (less)(struct bpf_rb_node *a, const struct bpf_rb_node *b),
			       void *meta__ign, __u64 off) __ksym;
extern struct bpf_rb_node *bpf_rbtree_remove(struct bpf_rb_root *root, struct bpf_rb_node *node) __ksym;
extern struct bpf_rb_node *bpf_rbtree_first(struct bpf_rb_root *root) __ksym;

/* the program's BTF must hold every struct a contains: tag names (else the kernel refuses the
 * BTF): a local type-id relocation puts a struct there even where no code allocates it */
#define keep_type(type) asm volatile("" : : "r"(bpf_core_type_id_local(type)))
#define new_obj(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define drop_obj(p) bpf_obj_drop_impl(p, NULL)
#define acquire_ref(p) bpf_refcount_acquire_impl(p, NULL)
#define push_front(h, n) bpf_list_push_front_impl(h, n, NULL, 0)
#define push_back(h, n) bpf_list_push_back_impl(h, n, NULL, 0)
#define tree_add(r, n, less) bpf_rbtree_add_impl(r, n, less, NULL, 0)
#define owner_of(ptr, type, member) ((type *)((void *)(ptr) - __builtin_offsetof(type, member)))

/* a list element and a tree element */
struct job {
	__u64 id;
	struct bpf_list_node link;
	__u32 prio;
};

struct task {
	struct bpf_rb_node rb;
	__u64 deadline;
	__u32 cpu;
};

/* map values guarding a list of jobs, a tree of tasks (each with its lock); every struct a
 * contains: tag names must be in the program's BTF, else the kernel refuses the BTF */
struct jobq {
	struct bpf_spin_lock lock;
	__u32 count;
	struct bpf_list_head jobs holds(job, link);
};

struct taskq {
	struct bpf_spin_lock lock;
	struct bpf_rb_root tasks holds(task, rb);
};

#define ARRAY_OF(value_type, name)				\
	struct {						\
		__uint(type, BPF_MAP_TYPE_ARRAY);		\
		__uint(max_entries, 2);				\
		__type(key, __u32);				\
		__type(value, struct value_type);		\
	} name SEC(".maps")

/* in a program over ARRAY_OF(jobq, queues): q, the first queue, and j, a new job (or return 0) */
#define QUEUE_AND_NEW_JOB(q, j)					\
	struct jobq *q = elem(&queues, 0);			\
	struct job *j;						\
								\
	if (!q)							\
		return 0;					\
	j = new_obj(struct job);				\
	if (!j)							\
		return 0

static __always_inline void *elem(void *map, __u32 i)
{
	return bpf_map_lookup_elem(map, &i);
}

static _Bool earlier(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct task *x = owner_of(a, struct task, rb);
	struct task *y = owner_of(b, struct task, rb);

	return x->deadline < y->deadline;
}
