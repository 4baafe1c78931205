/* Loops, 32- and 64-bit compares, a bpf-to-bpf call, packet bounds checks. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

long counter;

static __attribute__((noinline)) int triple(int x)
{
	return x * 3;
}

SEC("xdp")
int branches(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	long v = 1;
	int i;

	if (data + 14 > end)
		return XDP_DROP;
	for (i = 0; i < 10; i++) {
		if (data[i % 14] == 3)
			v += i;
		if (data[i % 14] & 0x40)
			v ^= (long)data[13] << 3;
		if ((int)v < -5)
			v = -v;
	}
	__sync_fetch_and_add(&counter, v);
	return triple((int)v) > 7 ? XDP_PASS : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
