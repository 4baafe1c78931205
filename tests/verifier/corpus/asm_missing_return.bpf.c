/* MISTAKE (hand-written assembly): one path reaches `exit` without setting r0, the return
 * value. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
__attribute__((naked)) int asm_missing_return(void)
{
	asm volatile (
		"r2 = *(u32 *)(r1 + 12);"
		"if r2 == 0 goto +1;"
		"r0 = 2;"
		"exit;"
	);
}

char LICENSE[] SEC("license") = "GPL";
