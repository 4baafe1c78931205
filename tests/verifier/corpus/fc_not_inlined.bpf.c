/* MISTAKE (hand-written assembly): the same spill slot also surrounds bpf_get_prandom_u32(), which
 * the kernel does not inline: it keeps every pair of the subprogram, whose 16-byte frame with the
 * caller's 512 bytes overflows the stack. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((naked, used)) static void fc_not_inlined_rand(void)
{
	asm volatile (
		"*(u64 *)(r10 - 8) = r1;"
		"call %[bpf_get_smp_processor_id];"
		"r1 = *(u64 *)(r10 - 8);"
		"*(u64 *)(r10 - 8) = r1;"
		"call %[bpf_get_prandom_u32];"
		"r1 = *(u64 *)(r10 - 8);"
		"exit;"
		:
		: [bpf_get_smp_processor_id] "i"(BPF_FUNC_get_smp_processor_id),
		  [bpf_get_prandom_u32] "i"(BPF_FUNC_get_prandom_u32)
		: "memory");
}

SEC("xdp")
__attribute__((naked)) int fc_not_inlined(void)
{
	asm volatile (
		"r1 = 42;"
		"*(u64 *)(r10 - 512) = r1;"
		"call fc_not_inlined_rand;"
		"r0 = 2;"
		"exit;"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
