/* Hand-written assembly: r1 and r2 live across bpf_get_smp_processor_id(), spilled to the two
 * lowest slots of the subprogram's frame (the nearest pair in the lowest) and filled after the
 * call.  Both pairs go when the kernel inlines the helper: the main program's 496 bytes and the
 * subprogram's remaining 16 fit in the stack. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((naked, used)) static void fc_two_spills_cpu(void)
{
	asm volatile (
		"r2 = 7;"
		"*(u64 *)(r10 - 16) = r2;"
		"*(u64 *)(r10 - 24) = r2;"
		"*(u64 *)(r10 - 32) = r1;"
		"call %[bpf_get_smp_processor_id];"
		"r1 = *(u64 *)(r10 - 32);"
		"r2 = *(u64 *)(r10 - 24);"
		"r0 = *(u64 *)(r10 - 16);"
		"r0 += r1;"
		"r0 += r2;"
		"exit;"
		:
		: [bpf_get_smp_processor_id] "i"(BPF_FUNC_get_smp_processor_id)
		: "memory");
}

SEC("xdp")
__attribute__((naked)) int fc_two_spills(void)
{
	asm volatile (
		"r1 = 42;"
		"*(u64 *)(r10 - 496) = r1;"
		"call fc_two_spills_cpu;"
		"r0 = 2;"
		"exit;"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
