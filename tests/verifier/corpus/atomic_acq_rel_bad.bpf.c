/* MISTAKE (hand-written assembly): load-acquire and store-release may not touch the context,
 * packet or socket pointers, must be aligned, and check their operands first. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __imm(name) [name] "i"(name)
#define __imm_addr(name) [name] "i"(&name)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} acq_bad_map SEC(".maps");

SEC("xdp")
__attribute__((naked)) int acq_from_ctx(void)
{
	asm volatile (
		".8byte 0x00000100000010c3;"         /* r0 = load_acquire((u32 *)(r1 + 0)): ctx */
		"r0 = 2;"
		"exit;"
	);
}

SEC("tc")
__attribute__((naked)) int rel_to_ctx(void)
{
	asm volatile (
		"r2 = 1;"
		".8byte 0x00000110000821c3;"         /* store_release((u32 *)(r1 + 8), r2): skb->mark */
		"r0 = 0;"
		"exit;"
	);
}

SEC("xdp")
__attribute__((naked)) int rel_to_pkt(void)
{
	asm volatile (
		"r2 = *(u32 *)(r1 + 0);"
		"r3 = *(u32 *)(r1 + 4);"
		"r4 = r2;"
		"r4 += 8;"
		"if r4 > r3 goto l0_%=;"
		"r5 = 0;"
		".8byte 0x00000110000052d3;"         /* store_release((u8 *)(r2 + 0), r5): packet */
	"l0_%=:"
		"r0 = 2;"
		"exit;"
		::: "memory"
	);
}

SEC("xdp")
__attribute__((naked)) int acq_uninit_src(void)
{
	asm volatile (
		".8byte 0x00000100000020db;"        /* r2 never written */
		"exit;"
	);
}

SEC("xdp")
__attribute__((naked)) int acq_from_scalar(void)
{
	asm volatile (
		"r1 = 0;"
		".8byte 0x00000100000010db;"
		"exit;"
	);
}

SEC("xdp")
__attribute__((naked)) int rel_leaks_pointer(void)
{
	asm volatile (
		"r2 = r10;"
		".8byte 0x00000110fff82adb;"      /* a pointer stored in the stack: allowed when privileged */
		".8byte 0x00000100fff8a0db;"
		"r0 = *(u64 *)(r0 + 0);"         /* and read back: it is the pointer, not a scalar */
		"r0 = 2;"
		"exit;"
	);
}

SEC("tc")
__attribute__((naked)) int acq_misaligned_value(void)
{
	asm volatile (
		"r1 = 0;"
		"*(u32 *)(r10 - 4) = r1;"
		"r2 = r10;"
		"r2 += -4;"
		"r1 = %[acq_bad_map] ll;"
		"call %[bpf_map_lookup_elem];"
		"if r0 == 0 goto l0_%=;"
		".8byte 0x00000100000200c3;"         /* r0 = load_acquire((u32 *)(r0 + 2)): misaligned */
	"l0_%=:"
		"r0 = 0;"
		"exit;"
		:
		: __imm_addr(acq_bad_map), __imm(bpf_map_lookup_elem)
		: "memory"
	);
}

SEC("xdp")
__attribute__((naked)) int acq_uninit_stack(void)
{
	asm volatile (
		".8byte 0x00000100fff8a0c3;"       /* nothing stored there (privileged: allowed) */
		".8byte 0x00000110fff03adb;"     /* r3 never written */
		"exit;"
	);
}

char LICENSE[] SEC("license") = "GPL";
