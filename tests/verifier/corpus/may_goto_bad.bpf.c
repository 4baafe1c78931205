/* MISTAKE (hand-written assembly): a may_goto with a non-zero immediate or register is invalid;
 * a may_goto to itself never makes progress (an infinite loop). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
__attribute__((naked)) int may_goto_bad_imm(void)
{
	asm volatile (
		"r0 = 2;"
		".8byte 0x00000003000100e5;"           /* may_goto +1 with imm 3 */
		"r0 = 1;"
		"exit;"
	);
}

SEC("xdp")
__attribute__((naked)) int may_goto_bad_reg(void)
{
	asm volatile (
		"r0 = 2;"
		".8byte 0x00000000000001e5;"           /* dst r1 set */
		"exit;"
	);
}

SEC("xdp")
__attribute__((naked)) int may_goto_self(void)
{
	asm volatile (
		"r0 = 0;"
	"l0_%=:"
		".8byte 0x00000000ffff00e5;"       /* may_goto -1: to itself */
		"if r0 > 10 goto l0_%=;"
		"r0 = 2;"
		"exit;"
		::: "memory"
	);
}

char LICENSE[] SEC("license") = "GPL";
