/* MISTAKE: the loop waits for a value that never changes inside the loop; the verifier sees
 * the same state come round again. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u32 flag = 0;

SEC("xdp")
int infinite_loop(struct xdp_md *ctx)
{
	__u32 f = flag;

	while (f != 1)
		;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
