/* MISTAKE (hand-written assembly): an instruction no path reaches (dead code is refused). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
__attribute__((naked)) int asm_unreachable(void)
{
	asm volatile (
		"r0 = 2;"
		"goto +1;"
		"r0 = 1;"
		"exit;"
	);
}

char LICENSE[] SEC("license") = "GPL";
