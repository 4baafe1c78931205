/* MISTAKE (hand-written assembly): a map load written as a raw ld_imm64 with a file descriptor
 * number instead of a map symbol; the loader passes the number on, and the loading process's
 * stdin/stderr are no maps. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __imm(name) [name] "i"(name)

SEC("socket")
__attribute__((naked)) int raw_map_fd_zero(void)
{
	asm volatile (
		"r2 = 0;"
		"*(u64 *)(r10 - 8) = r2;"
		"r2 = r10;"
		"r2 += -8;"
		".8byte 0x0000000000001118;"     /* r1 = map fd 0 (BPF_PSEUDO_MAP_FD) */
		".8byte 0;"
		"call %[bpf_map_delete_elem];"
		"exit;"
		:
		: __imm(bpf_map_delete_elem)
		: "memory"
	);
}

SEC("socket")
__attribute__((naked)) int raw_map_value_fd_two(void)
{
	asm volatile (
		".8byte 0x0000000200002118;"     /* r1 = map value of fd 2 (BPF_PSEUDO_MAP_VALUE) */
		".8byte 0;"
		"r0 = *(u32 *)(r1 + 0);"
		"exit;"
	);
}

char LICENSE[] SEC("license") = "GPL";
