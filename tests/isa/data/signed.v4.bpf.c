/* Signed division and modulo, sign extension, byte swaps: the cpu v4 instructions. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

long out[8];

SEC("xdp")
int signed_ops(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *end = (void *)(long)ctx->data_end;
	long a, b;
	int c;

	if (data + 16 > end)
		return XDP_DROP;
	a = *(signed char *)data;
	b = *(short *)(data + 2);
	c = *(int *)(data + 4);
	out[0] = a / (b | 1);
	out[1] = a % (b | 1);
	out[2] = (int)c / ((int)a | 1);
	out[3] = (int)c % 7;
	/* clang 22 turns `% 7` into other forms: the instruction itself, whatever the compiler */
	asm volatile("%[r] s%%= 7" : [r] "+w"(c));
	out[3] += c;
	out[4] = (long)(signed char)c + (long)(short)b + (long)(int)a;
	out[5] = __builtin_bswap16((unsigned short)c) + __builtin_bswap32(c) + __builtin_bswap64(b);
	out[6] = a / -3;
	out[7] = (long)(signed char)(c >> 3);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
