/* OK: bpf_loop() runs a callback a bounded number of times; the callback returns 0 to go on
 * and 1 to stop. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct loop_ctx {
	__u64 sum;
	__u32 limit;
};

static int add_one(__u32 index, void *data)
{
	struct loop_ctx *c = data;

	c->sum += index;
	return c->sum > c->limit;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int bpf_loop_callback(void *ctx)
{
	struct loop_ctx c = { .sum = 0, .limit = 1000 };

	bpf_loop(100, add_one, &c, 0);
	return c.sum > 10;
}

char LICENSE[] SEC("license") = "GPL";
