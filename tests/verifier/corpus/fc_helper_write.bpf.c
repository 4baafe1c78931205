/* MISTAKE (hand-written assembly): after the bpf_fastcall pair, bpf_xdp_load_bytes() writes the
 * packet's first bytes into the pair's slot: the kernel keeps the pair and the subprogram's 16-byte
 * frame, and with the caller's 512 bytes the stack overflows. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((naked, used)) static void fc_helper_write_load(void)
{
	asm volatile (
		"*(u64 *)(r10 - 8) = r1;"
		"call %[bpf_get_smp_processor_id];"
		"r1 = *(u64 *)(r10 - 8);"
		"r2 = 0;"
		"r3 = r10;"
		"r3 += -8;"
		"r4 = 8;"
		"call %[bpf_xdp_load_bytes];"
		"exit;"
		:
		: [bpf_get_smp_processor_id] "i"(BPF_FUNC_get_smp_processor_id),
		  [bpf_xdp_load_bytes] "i"(BPF_FUNC_xdp_load_bytes)
		: "memory");
}

SEC("xdp")
__attribute__((naked)) int fc_helper_write(void)
{
	asm volatile (
		"*(u64 *)(r10 - 512) = r1;"
		"call fc_helper_write_load;"
		"r0 = 2;"
		"exit;"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
