/* bpfbuild's header set: byte order conversions for network fields.
 *
 * Written for bpfbuild; the public names and meaning are those of libbpf 1.5's
 * <bpf/bpf_endian.h>.  bpf_htons()/bpf_ntohs()/bpf_htonl()/bpf_ntohl() and
 * bpf_cpu_to_be64()/bpf_be64_to_cpu() fold to constants when given constants (usable in case
 * labels and static initialisers) and compile to one byte-swap instruction otherwise.
 * The __bpf_<conv>(x) forms always swap at run time, __bpf_constant_<conv>(x) are the
 * constant expressions.
 */
#ifndef BPFBUILD_BPF_ENDIAN_H
#define BPFBUILD_BPF_ENDIAN_H

/* Byte n of a b-bit value moved to byte m (shift it to the top, down to byte 0, up to m). */
#define ___bpf_mvb(x, b, n, m) ((__u##b)(x) << (b - (n + 1) * 8) >> (b - 8) << (m * 8))

#define ___bpf_swab16(x) ((__u16)(___bpf_mvb(x, 16, 0, 1) | ___bpf_mvb(x, 16, 1, 0)))
#define ___bpf_swab32(x) ((__u32)(___bpf_mvb(x, 32, 0, 3) | ___bpf_mvb(x, 32, 1, 2) |	\
				  ___bpf_mvb(x, 32, 2, 1) | ___bpf_mvb(x, 32, 3, 0)))
#define ___bpf_swab64(x) ((__u64)(___bpf_mvb(x, 64, 0, 7) | ___bpf_mvb(x, 64, 1, 6) |	\
				  ___bpf_mvb(x, 64, 2, 5) | ___bpf_mvb(x, 64, 3, 4) |	\
				  ___bpf_mvb(x, 64, 4, 3) | ___bpf_mvb(x, 64, 5, 2) |	\
				  ___bpf_mvb(x, 64, 6, 1) | ___bpf_mvb(x, 64, 7, 0)))

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define __bpf_ntohs(x) __builtin_bswap16(x)
#define __bpf_htons(x) __builtin_bswap16(x)
#define __bpf_constant_ntohs(x) ___bpf_swab16(x)
#define __bpf_constant_htons(x) ___bpf_swab16(x)
#define __bpf_ntohl(x) __builtin_bswap32(x)
#define __bpf_htonl(x) __builtin_bswap32(x)
#define __bpf_constant_ntohl(x) ___bpf_swab32(x)
#define __bpf_constant_htonl(x) ___bpf_swab32(x)
#define __bpf_be64_to_cpu(x) __builtin_bswap64(x)
#define __bpf_cpu_to_be64(x) __builtin_bswap64(x)
#define __bpf_constant_be64_to_cpu(x) ___bpf_swab64(x)
#define __bpf_constant_cpu_to_be64(x) ___bpf_swab64(x)
#elif __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
/* network order is the host's: nothing to do */
#define __bpf_ntohs(x) (x)
#define __bpf_htons(x) (x)
#define __bpf_constant_ntohs(x) (x)
#define __bpf_constant_htons(x) (x)
#define __bpf_ntohl(x) (x)
#define __bpf_htonl(x) (x)
#define __bpf_constant_ntohl(x) (x)
#define __bpf_constant_htonl(x) (x)
#define __bpf_be64_to_cpu(x) (x)
#define __bpf_cpu_to_be64(x) (x)
#define __bpf_constant_be64_to_cpu(x) (x)
#define __bpf_constant_cpu_to_be64(x) (x)
#else
#error "cannot tell the target's byte order (__BYTE_ORDER__)"
#endif

#define __bpfbuild_conv(conv, x) (__builtin_constant_p(x) ? __bpf_constant_##conv(x) : __bpf_##conv(x))
#define bpf_htons(x) __bpfbuild_conv(htons, x)
#define bpf_ntohs(x) __bpfbuild_conv(ntohs, x)
#define bpf_htonl(x) __bpfbuild_conv(htonl, x)
#define bpf_ntohl(x) __bpfbuild_conv(ntohl, x)
#define bpf_cpu_to_be64(x) __bpfbuild_conv(cpu_to_be64, x)
#define bpf_be64_to_cpu(x) __bpfbuild_conv(be64_to_cpu, x)

#endif /* BPFBUILD_BPF_ENDIAN_H */
