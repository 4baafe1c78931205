/* What the kernel verifier rewrites after accepting a program (tests/obj/test_xlated_kernel.py):
 * context fields, map lookups inlined per map type, other map helpers called directly,
 * division and modulo by a register guarded (signed too, with -mcpu=v4). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } lru SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 8); __type(key, __u64); __type(value, __u64); } pch SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } lpc SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 3); __type(key, __u32); __type(value, __u32); } pca SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 5); __type(key, __u32); __type(value, char[12]); } arr SEC(".maps");
struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u32); } in1 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 2); __type(key, __u32); __array(values, struct inner); } aom SEC(".maps") = { .values = { &in1 } };
struct { __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS); __uint(max_entries, 2); __type(key, __u32); __array(values, struct inner); } hom SEC(".maps") = { .values = { &in1 } };

SEC("xdp")
int xdp_fixups(struct xdp_md *ctx)
{
	__u32 k = ctx->ingress_ifindex + ctx->rx_queue_index;
	__u64 k64 = k, r = 0, *v;
	__u32 *w;
	char *c;
	void *m;

	v = bpf_map_lookup_elem(&lru, &k); if (v) r += *v;
	v = bpf_map_lookup_elem(&pch, &k64); if (v) r += *v;
	v = bpf_map_lookup_elem(&lpc, &k); if (v) r += *v;
	w = bpf_map_lookup_elem(&pca, &k); if (w) r += *w;
	c = bpf_map_lookup_elem(&arr, &k); if (c) r += c[3];
	m = bpf_map_lookup_elem(&aom, &k); if (m) r += 1;
	m = bpf_map_lookup_elem(&hom, &k); if (m) r += 2;
	r = r / (k64 | 1) + r % k64 + (__u32)r / (__u32)k + (__u32)r % (__u32)k;
#if __clang_major__ >= 18 && defined(__BPF_CPU_VERSION__) && __BPF_CPU_VERSION__ >= 4
	r += (long)r / (long)k64 + (long)r % (long)k64 + (int)r / (int)k + (int)r % (int)k + (long)r / -1;
#endif
	bpf_map_update_elem(&lru, &k, &r, 0);
	bpf_map_update_elem(&lpc, &k, &r, 0);
	bpf_map_update_elem(&pca, &k, &k, 0);
	bpf_map_delete_elem(&pch, &k64);
	bpf_map_delete_elem(&lpc, &k);
	return r & 3;
}

SEC("tc")
int tc_fixups(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	void *meta = (void *)(long)skb->data_meta;
	__u32 x = skb->len + skb->mark + skb->priority + skb->protocol;

	if (meta > data)
		return 1;
	if (data + 4 > end)
		return 2;
	return x;
}

char LICENSE[] SEC("license") = "GPL";
