/* Global functions typed by their BTF prototypes: a pointer to a sized type is memory of that
 * size that may be NULL (checked before use), arg:nonnull removes the NULL, arg:ctx makes a
 * void pointer the context, integers are scalars. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define __arg_ctx __attribute__((btf_decl_tag("arg:ctx")))
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))

struct pair { __u32 a; __u32 b; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pair);
} pairs SEC(".maps");

__attribute__((noinline)) int sum_pair(struct pair *p)
{
	if (!p)
		return 0;
	return p->a + p->b;
}

__attribute__((noinline)) int first_of(struct pair *p __arg_nonnull)
{
	return p->a;
}

__attribute__((noinline)) int ctx_len(void *ctx __arg_ctx)
{
	return ((struct __sk_buff *)ctx)->len;
}

__attribute__((noinline)) int scaled(int x, long y)
{
	return x * 3 + (int)y;
}

SEC("tc")
int global_args_ok(struct __sk_buff *skb)
{
	struct pair local = { 1, 2 };
	__u32 key = 0;
	struct pair *v = bpf_map_lookup_elem(&pairs, &key);
	int r = sum_pair(&local) + sum_pair(v) + sum_pair(0) + first_of(&local);

	if (v)
		r += first_of(v);
	return r + ctx_len(skb) + scaled(r, 7) > 0 ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
