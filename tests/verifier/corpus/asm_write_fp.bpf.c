/* MISTAKE (hand-written assembly): r10, the frame pointer, is read-only. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
__attribute__((naked)) int asm_write_fp(void)
{
	asm volatile (
		"r10 += -8;"
		"r0 = 2;"
		"exit;"
	);
}

char LICENSE[] SEC("license") = "GPL";
