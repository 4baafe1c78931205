/* MISTAKE: global functions used against their BTF prototypes: memory that may be NULL read
 * without a check, a possibly-NULL or too small pointer passed where the prototype wants memory
 * of its size, a scalar for a pointer, tags the kernel refuses. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))
#define __arg_nullable __attribute__((btf_decl_tag("arg:nullable")))

struct pair { __u32 a; __u32 b; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct pair);
} hashed_pairs SEC(".maps");

__attribute__((noinline)) int unchecked(struct pair *p)
{
	return p->a;
}

SEC("tc")
int global_arg_unchecked(struct __sk_buff *skb)
{
	struct pair local = { 1, 2 };

	return unchecked(&local);
}

__attribute__((noinline)) int wants_nonnull(struct pair *p __arg_nonnull)
{
	return p->b;
}

SEC("tc")
int global_arg_maybe_null(struct __sk_buff *skb)
{
	__u32 key = 0;

	return wants_nonnull(bpf_map_lookup_elem(&hashed_pairs, &key));
}

__attribute__((noinline)) int wants_pair(struct pair *p __arg_nonnull)
{
	return p->a;
}

SEC("tc")
int global_arg_too_small(struct __sk_buff *skb)
{
	__u32 half = skb->len;

	return wants_pair((struct pair *)&half);
}

__attribute__((noinline)) int wants_ptr(struct pair *p)
{
	return p ? p->a : 0;
}

SEC("tc")
int global_arg_scalar(struct __sk_buff *skb)
{
	return wants_ptr((struct pair *)(long)skb->len);
}

__attribute__((noinline)) int nullable_mem(struct pair *p __arg_nullable)
{
	return p ? p->a : 0;
}

SEC("tc")
int global_arg_bad_tag(struct __sk_buff *skb)
{
	struct pair local = { 1, 2 };

	return nullable_mem(&local);
}

__attribute__((noinline)) int tagged_int(int x __arg_nonnull)
{
	return x + bpf_get_prandom_u32();
}

SEC("tc")
int global_arg_tag_on_int(struct __sk_buff *skb)
{
	return tagged_int(skb->len);
}

char LICENSE[] SEC("license") = "GPL";
