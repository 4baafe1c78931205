/* OK: a loop with a constant bound over the first bytes of the packet, each byte checked
 * against data_end. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u32 sum = 0;

SEC("xdp")
int bounded_loop_sum(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 s = 0;

	for (int i = 0; i < 32; i++) {
		if ((void *)(data + i + 1) > data_end)
			break;
		s += data[i];
	}
	sum = s;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
