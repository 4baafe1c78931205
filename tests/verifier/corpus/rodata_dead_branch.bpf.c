/* OK: a .rodata constant (frozen before load) makes the debug branch dead, so its unchecked
 * packet read is never verified. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile int debug = 0;

SEC("xdp")
int rodata_dead_branch(struct xdp_md *ctx)
{
	if (debug) {
		unsigned char *p = (void *)(long)ctx->data;

		return p[0];
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
