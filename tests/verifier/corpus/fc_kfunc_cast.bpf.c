/* Hand-written assembly: bpf_cast_to_kern_ctx() is a KF_FASTCALL kfunc; the r2 pair around it goes
 * with the kfunc's inlining, so the subprogram needs no stack and the frames fit in 512 bytes. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

__attribute__((naked, used)) static void fc_kfunc_cast_sub(void)
{
	asm volatile (
		"r2 = 1;"
		"*(u64 *)(r10 - 8) = r2;"
		"call %[bpf_cast_to_kern_ctx];"
		"r2 = *(u64 *)(r10 - 8);"
		"r0 = r2;"
		"exit;"
		:
		: [bpf_cast_to_kern_ctx] "i"(bpf_cast_to_kern_ctx)
		: "memory");
}

SEC("xdp")
__attribute__((naked)) int fc_kfunc_cast(void)
{
	asm volatile (
		"r6 = r1;"
		"*(u64 *)(r10 - 512) = r6;"
		"call fc_kfunc_cast_sub;"
		"r0 = 2;"
		"exit;"
		::: "memory");
}

/* the kfunc's BTF record: a call from C (never run) makes clang emit it for the asm above */
SEC("xdp")
int fc_kfunc_cast_decl(struct xdp_md *ctx)
{
	return bpf_cast_to_kern_ctx(ctx) ? 2 : 1;
}

char LICENSE[] SEC("license") = "GPL";
