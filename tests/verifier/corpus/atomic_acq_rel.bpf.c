/* Load-acquire and store-release (BPF_STX | BPF_ATOMIC, imm BPF_LOAD_ACQ / BPF_STORE_REL), as the
 * kernel's cpu v4 instructions: encoded by hand (clang 14 cannot emit them).  Stack slots and a map
 * value, every size; the loaded value is a scalar of the access size. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __imm(name) [name] "i"(name)
#define __imm_addr(name) [name] "i"(&name)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} acq_map SEC(".maps");

SEC("xdp")
__attribute__((naked)) int acq_rel_stack(void)
{
	asm volatile (
		"r1 = 42;"
		".8byte 0x00000110fff81adb;"      /* store_release((u64 *)(r10 - 8), r1) */
		".8byte 0x00000100fff8a0db;"      /* r0 = load_acquire((u64 *)(r10 - 8)) */
		".8byte 0x00000110fff01ad3;"      /* store_release((u8 *)(r10 - 16), r1) */
		".8byte 0x00000100fff0a2d3;"      /* r2 = load_acquire((u8 *)(r10 - 16)) */
		"if r2 > 255 goto l0_%=;"        /* a u8 load: never taken */
		".8byte 0x00000110ffe82acb;"
		".8byte 0x00000100ffe8a3cb;"
		".8byte 0x00000110ffe03ac3;"
		".8byte 0x00000100ffe0a0c3;"
		"exit;"
	"l0_%=:"
		"r0 = *(u64 *)(r10 - 64);"       /* dead: an uninitialised read */
		"exit;"
		::: "memory"
	);
}

SEC("tc")
__attribute__((naked)) int acq_rel_map_value(void)
{
	asm volatile (
		"r1 = 0;"
		"*(u32 *)(r10 - 4) = r1;"
		"r2 = r10;"
		"r2 += -4;"
		"r1 = %[acq_map] ll;"
		"call %[bpf_map_lookup_elem];"
		"if r0 == 0 goto l0_%=;"
		"r1 = 7;"
		".8byte 0x00000110000410c3;"         /* store_release((u32 *)(r0 + 4), r1) */
		".8byte 0x00000100000002db;"        /* r2 = load_acquire((u64 *)(r0 + 0)) */
		".8byte 0x00000100000000c3;"         /* r0 = load_acquire((u32 *)(r0 + 0)): dst == src */
		"exit;"
	"l0_%=:"
		"r0 = 0;"
		"exit;"
		:
		: __imm_addr(acq_map), __imm(bpf_map_lookup_elem)
		: "memory"
	);
}

char LICENSE[] SEC("license") = "GPL";
