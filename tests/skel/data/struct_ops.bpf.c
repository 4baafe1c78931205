/* A struct_ops object shaped like a scheduler or TCP congestion control: callbacks, scalars,
 * an array (padding in the skeleton's shadow type) and a bitfield (padding too). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct demo_ops {
	int (*init)(void);
	unsigned int flags;
	char name[16];
	unsigned int small: 3, other: 5;
	long long timeout;
	void (*exit)(int code);
};

SEC("struct_ops/demo_init")
int demo_init(void)
{
	return 0;
}

SEC("struct_ops/demo_exit")
void demo_exit(int code)
{
}

SEC(".struct_ops")
struct demo_ops demo = {
	.init = (void *)demo_init,
	.flags = 3,
	.name = "demo",
	.timeout = 7,
	.exit = (void *)demo_exit,
};

char LICENSE[] SEC("license") = "GPL";
