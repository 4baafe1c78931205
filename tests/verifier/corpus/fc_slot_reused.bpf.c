/* MISTAKE (hand-written assembly): the subprogram reads its spill slot again after the fill, so
 * the slot is no longer used only by the bpf_fastcall pattern: the kernel keeps the pair, the
 * subprogram's frame stays 16 bytes and the two frames need 528 bytes of the 512-byte stack. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((naked, used)) static void fc_slot_reused_cpu(void)
{
	asm volatile (
		"*(u64 *)(r10 - 8) = r1;"
		"call %[bpf_get_smp_processor_id];"
		"r1 = *(u64 *)(r10 - 8);"
		"r0 = *(u64 *)(r10 - 8);"
		"exit;"
		:
		: [bpf_get_smp_processor_id] "i"(BPF_FUNC_get_smp_processor_id)
		: "memory");
}

SEC("xdp")
__attribute__((naked)) int fc_slot_reused(void)
{
	asm volatile (
		"r1 = 42;"
		"*(u64 *)(r10 - 512) = r1;"
		"call fc_slot_reused_cpu;"
		"r0 = 2;"
		"exit;"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
