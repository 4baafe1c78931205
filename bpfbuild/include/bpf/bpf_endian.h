/* bpfbuild's header set: byte order conversions for network fields.
 *
 * bpf_htons()/bpf_ntohs()/bpf_htonl()/bpf_ntohl() fold to constants when given constants
 * (usable in case labels and static initialisers) and compile to one BPF_END instruction
 * otherwise; bpf_cpu_to_be64()/bpf_be64_to_cpu() likewise.
 */
#ifndef BPFBUILD_BPF_ENDIAN_H
#define BPFBUILD_BPF_ENDIAN_H

#define __bpfbuild_swap16_const(x) ((__u16)((((__u16)(x) & 0x00ffU) << 8) | (((__u16)(x) & 0xff00U) >> 8)))
#define __bpfbuild_swap32_const(x) ((__u32)(					\
	(((__u32)(x) & 0x000000ffUL) << 24) | (((__u32)(x) & 0x0000ff00UL) << 8) |	\
	(((__u32)(x) & 0x00ff0000UL) >> 8) | (((__u32)(x) & 0xff000000UL) >> 24)))
#define __bpfbuild_swap64_const(x) ((__u64)(					\
	((__u64)__bpfbuild_swap32_const((__u64)(x) & 0xffffffffULL) << 32) |	\
	(__u64)__bpfbuild_swap32_const((__u64)(x) >> 32)))

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define __bpfbuild_to_be16(x) __builtin_bswap16(x)
#define __bpfbuild_to_be32(x) __builtin_bswap32(x)
#define __bpfbuild_to_be64(x) __builtin_bswap64(x)
#define __bpfbuild_to_be16_const(x) __bpfbuild_swap16_const(x)
#define __bpfbuild_to_be32_const(x) __bpfbuild_swap32_const(x)
#define __bpfbuild_to_be64_const(x) __bpfbuild_swap64_const(x)
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define __bpfbuild_to_be16(x) (x)
#define __bpfbuild_to_be32(x) (x)
#define __bpfbuild_to_be64(x) (x)
#define __bpfbuild_to_be16_const(x) (x)
#define __bpfbuild_to_be32_const(x) (x)
#define __bpfbuild_to_be64_const(x) (x)
#else
#error "cannot tell the target's byte order"
#endif

#define bpf_htons(x) (__builtin_constant_p(x) ? __bpfbuild_to_be16_const(x) : __bpfbuild_to_be16(x))
#define bpf_ntohs(x) bpf_htons(x)
#define bpf_htonl(x) (__builtin_constant_p(x) ? __bpfbuild_to_be32_const(x) : __bpfbuild_to_be32(x))
#define bpf_ntohl(x) bpf_htonl(x)
#define bpf_cpu_to_be64(x) (__builtin_constant_p(x) ? __bpfbuild_to_be64_const(x) : __bpfbuild_to_be64(x))
#define bpf_be64_to_cpu(x) bpf_cpu_to_be64(x)

#endif /* BPFBUILD_BPF_ENDIAN_H */
