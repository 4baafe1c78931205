// Timers and cgroup storage. Each program folds the helpers' return values into its own, so
// BPF_PROG_TEST_RUN can check them against the emulator.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define CLOCK_MONOTONIC 1

struct elem {
	__u64 fired;
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct elem);
} timers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_STORAGE);
	__type(key, struct bpf_cgroup_storage_key);
	__type(value, __u64);
} counts SEC(".maps");

static int fired(void *map, __u32 *key, struct elem *e)
{
	e->fired++;
	return 0;
}

static int code(long err)
{
	return err < 0 ? -err : err;
}

SEC("xdp")
int timer_codes(struct xdp_md *ctx)
{
	__u32 k0 = 0, k1 = 1;
	struct elem *a = bpf_map_lookup_elem(&timers, &k0);
	struct elem *b = bpf_map_lookup_elem(&timers, &k1);
	int r = 0;

	if (!a || !b)
		return 0;
	r |= code(bpf_timer_init(&a->t, &timers, CLOCK_MONOTONIC));             /* 0 */
	r |= code(bpf_timer_init(&a->t, &timers, CLOCK_MONOTONIC)) << 6;        /* EBUSY */
	r |= code(bpf_timer_start(&a->t, 1000000000, 0)) << 12;                 /* EINVAL: no callback */
	r |= code(bpf_timer_set_callback(&a->t, fired)) << 18;                  /* 0 */
	bpf_timer_start(&a->t, 1000000000, 0);                                  /* due in 1 s */
	r |= code(bpf_timer_cancel(&a->t)) << 20;                               /* 1: was pending */
	r |= code(bpf_timer_start(&a->t, 1000000000, 0)) << 22;                 /* EINVAL: callback dropped */
	r |= code(bpf_timer_init(&b->t, &timers, 2)) << 27;                     /* EINVAL: CLOCK_PROCESS_CPUTIME_ID */
	return r;
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	__u64 *n = bpf_get_local_storage(&counts, 0);

	*n += 1;
	return *n == 3 ? 1 : 0;              /* allow the third packet only */
}

char LICENSE[] SEC("license") = "GPL";
