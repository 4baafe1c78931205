/* Hand-written assembly in the shape clang gives a bpf_fastcall call: the helper's caller keeps r1
 * live across bpf_get_smp_processor_id() by a spill and a fill around it, in the lowest slot of its
 * frame.  The kernel inlines the helper, removes the pair and with it the slot: the two frames
 * (512 bytes and none) fit in the 512-byte stack. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((naked, used)) static void fc_frames_fit_cpu(void)
{
	asm volatile (
		"*(u64 *)(r10 - 8) = r1;"
		"call %[bpf_get_smp_processor_id];"
		"r1 = *(u64 *)(r10 - 8);"
		"exit;"
		:
		: [bpf_get_smp_processor_id] "i"(BPF_FUNC_get_smp_processor_id)
		: "memory");
}

SEC("xdp")
__attribute__((naked)) int fc_frames_fit(void)
{
	asm volatile (
		"r1 = 42;"
		"*(u64 *)(r10 - 512) = r1;"
		"call fc_frames_fit_cpu;"
		"r0 = 2;"
		"exit;"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
