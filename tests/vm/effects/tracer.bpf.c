// A tracing program's view of effects: fexit arguments and return value, a signal on failure,
// d_path of the argument, and an XDP program whose timer counts in a global.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define CLOCK_MONOTONIC 1

struct elem {
	struct bpf_timer t;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct elem);
} timers SEC(".maps");

__u64 fired;

SEC("fexit/do_unlinkat")
int unlink_exit(unsigned long long *ctx)
{
	__u64 name = 0, ret = 0;
	char path[32];
	long len;

	bpf_get_func_arg(ctx, 1, &name);
	bpf_get_func_ret(ctx, &ret);
	if ((long)ret < 0)
		bpf_send_signal(9);
	len = bpf_d_path((void *)name, path, sizeof(path));
	bpf_printk("args %d ret %ld len %ld", (int)bpf_get_func_arg_cnt(ctx), (long)ret, len);
	if (len > 0)
		bpf_printk("%s", path);
	return 0;
}

static int tick(void *map, __u32 *key, struct elem *e)
{
	fired++;
	bpf_printk("tick %llu", fired);
	return 0;
}

SEC("xdp")
int arm(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct elem *e = bpf_map_lookup_elem(&timers, &k);

	if (!e)
		return XDP_ABORTED;
	bpf_timer_init(&e->t, &timers, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&e->t, tick);
	bpf_timer_start(&e->t, 5000, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
