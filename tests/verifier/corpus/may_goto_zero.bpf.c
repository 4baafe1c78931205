/* may_goto with offset 0 (both ways lead to the next instruction; the kernel removes it after
 * verification), alone, in a batch and before the exit; and a may_goto bounding a loop. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
__attribute__((naked)) int may_goto_zero(void)
{
	asm volatile (
		".8byte 0x00000000000000e5;"           /* may_goto +0 */
		".8byte 0x00000000000000e5;"
		"r0 = 2;"
		".8byte 0x00000000000000e5;"
		"exit;"
	);
}

SEC("xdp")
__attribute__((naked)) int may_goto_offsets(void)
{
	asm volatile (
		".8byte 0x00000000000200e5;"           /* may_goto +2 */
		".8byte 0x00000000000100e5;"           /* may_goto +1 */
		".8byte 0x00000000000000e5;"           /* may_goto +0 */
		"r0 = 2;"
		"exit;"
	);
}

SEC("xdp")
__attribute__((naked)) int may_goto_loop(void)
{
	asm volatile (
		"r0 = 0;"
	"l0_%=:"
		".8byte 0x00000000000200e5;"           /* may_goto +2: leaves the loop */
		"r0 += 1;"
		"goto l0_%=;"
		"r0 = 2;"
		"exit;"
		::: "memory"
	);
}

char LICENSE[] SEC("license") = "GPL";
