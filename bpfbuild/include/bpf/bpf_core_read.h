/* bpfbuild's header set: CO-RE reads (compile once, run everywhere).
 *
 * Written for bpfbuild; the public names and meaning are those of libbpf 1.5's
 * <bpf/bpf_core_read.h>, so a program compiles to the same instructions and the same CO-RE
 * relocations (.BTF.ext) with either header.  The loader rewrites each relocated value for the
 * target kernel's types.
 *   BPF_CORE_READ(src, a, b, c)           src->a->b->c, one bpf_probe_read_kernel() per hop
 *   BPF_CORE_READ_INTO(&dst, src, a, ...), BPF_CORE_READ_STR_INTO(dst, src, a, ...)
 *   BPF_CORE_READ_USER[_INTO|_STR_INTO]   the same from user memory (bpf_probe_read_user)
 *   BPF_PROBE_READ[_INTO|_STR_INTO|_USER|_USER_INTO|_USER_STR_INTO]   without relocations
 *   bpf_core_read(dst, sz, src), bpf_core_read_str, bpf_core_read_user, bpf_core_read_user_str
 *   bpf_core_field_exists/size/offset(expr) or (type, field)
 *   bpf_core_type_exists/size/matches(T), bpf_core_type_id_local/kernel(T)
 *   bpf_core_enum_value_exists(enum E, V), bpf_core_enum_value(enum E, V)
 *   BPF_CORE_READ_BITFIELD_PROBED(src, field)   a bitfield's value, read with one probe read
 *   BPF_CORE_READ_BITFIELD(src, field)          the same, loading memory directly
 *   BPF_CORE_WRITE_BITFIELD(src, field, v)      store into a bitfield (directly)
 *   bpf_core_cast(ptr, T)                       a read-only typed kernel pointer (a kfunc)
 */
#ifndef BPFBUILD_BPF_CORE_READ_H
#define BPFBUILD_BPF_CORE_READ_H

#include <bpf/bpf_helpers.h>

/* What __builtin_preserve_field_info() relocates ... */
enum bpf_field_info_kind {
	BPF_FIELD_BYTE_OFFSET = 0,	/* byte offset of the field (of its storage unit: bitfields) */
	BPF_FIELD_BYTE_SIZE = 1,	/* byte size (of the storage unit) */
	BPF_FIELD_EXISTS = 2,		/* 1 when the target type has the field */
	BPF_FIELD_SIGNED = 3,		/* 1 when the field is signed */
	BPF_FIELD_LSHIFT_U64 = 4,	/* bitfields: shift left to drop the bits above the field */
	BPF_FIELD_RSHIFT_U64 = 5,	/* then right to drop those below it */
};
/* ... __builtin_btf_type_id() (this object's BTF id, or the target kernel's) ... */
enum bpf_type_id_kind {
	BPF_TYPE_ID_LOCAL = 0,
	BPF_TYPE_ID_TARGET = 1,
};
/* ... __builtin_preserve_type_info() ... */
enum bpf_type_info_kind {
	BPF_TYPE_EXISTS = 0,		/* a compatible type exists in the target */
	BPF_TYPE_SIZE = 1,		/* its size */
	BPF_TYPE_MATCHES = 2,		/* a type with the same shape (members by name) exists */
};
/* ... and __builtin_preserve_enum_value() (the enumerator written as `*(enum E *)V`). */
enum bpf_enum_value_kind {
	BPF_ENUMVAL_EXISTS = 0,
	BPF_ENUMVAL_VALUE = 1,
};

/* --- bitfields ---------------------------------------------------------------------------------
 * The loader relocates the byte offset and size of the storage unit holding the field and the
 * two shifts that isolate it in a 64-bit value; the field's signedness picks an arithmetic or a
 * logical right shift. */
#define __CORE_RELO(src, field, info) __builtin_preserve_field_info((src)->field, BPF_FIELD_##info)

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* the unit's bytes are the low bytes of the u64 */
#define __CORE_BITFIELD_PROBE_READ(dst, src, fld)					\
	bpf_probe_read_kernel((void *)dst, __CORE_RELO(src, fld, BYTE_SIZE),		\
			      (const void *)src + __CORE_RELO(src, fld, BYTE_OFFSET))
#else
/* the unit's bytes are the high bytes of the u64 */
#define __CORE_BITFIELD_PROBE_READ(dst, src, fld)					\
	bpf_probe_read_kernel((void *)dst + (8 - __CORE_RELO(src, fld, BYTE_SIZE)),	\
			      __CORE_RELO(src, fld, BYTE_SIZE),				\
			      (const void *)src + __CORE_RELO(src, fld, BYTE_OFFSET))
#endif

/* val holds the unit; leave the field's value in it */
#define __bpfbuild_bitfield_extract(val, s, field)					\
	val <<= __CORE_RELO(s, field, LSHIFT_U64);					\
	if (__CORE_RELO(s, field, SIGNED))						\
		val = ((long long)val) >> __CORE_RELO(s, field, RSHIFT_U64);		\
	else										\
		val = val >> __CORE_RELO(s, field, RSHIFT_U64)

#define BPF_CORE_READ_BITFIELD_PROBED(s, field) ({					\
	unsigned long long val = 0;							\
											\
	__CORE_BITFIELD_PROBE_READ(&val, s, field);					\
	__bpfbuild_bitfield_extract(val, s, field);					\
	val;										\
})

/* For pointers the verifier lets the program load from (BTF pointers, ctx).  The empty asm
 * keeps the compiler from folding the relocated offset into the loads below. */
#define BPF_CORE_READ_BITFIELD(s, field) ({						\
	const void *p = (const void *)s + __CORE_RELO(s, field, BYTE_OFFSET);		\
	unsigned long long val;								\
											\
	asm volatile("" : "=r"(p) : "0"(p));						\
											\
	switch (__CORE_RELO(s, field, BYTE_SIZE)) {					\
	case 1: val = *(const unsigned char *)p; break;					\
	case 2: val = *(const unsigned short *)p; break;				\
	case 4: val = *(const unsigned int *)p; break;					\
	case 8: val = *(const unsigned long long *)p; break;				\
	default: val = 0; break;							\
	}										\
	__bpfbuild_bitfield_extract(val, s, field);					\
	val;										\
})

/* Replace the field's bits in its storage unit with new_val's low bits. */
#define BPF_CORE_WRITE_BITFIELD(s, field, new_val) ({					\
	void *p = (void *)s + __CORE_RELO(s, field, BYTE_OFFSET);			\
	unsigned int byte_size = __CORE_RELO(s, field, BYTE_SIZE);			\
	unsigned int lshift = __CORE_RELO(s, field, LSHIFT_U64);			\
	unsigned int rshift = __CORE_RELO(s, field, RSHIFT_U64);			\
	unsigned long long mask, val, nval = new_val;					\
	unsigned int rpad = rshift - lshift;						\
											\
	asm volatile("" : "+r"(p));							\
											\
	switch (byte_size) {								\
	case 1: val = *(unsigned char *)p; break;					\
	case 2: val = *(unsigned short *)p; break;					\
	case 4: val = *(unsigned int *)p; break;					\
	case 8: val = *(unsigned long long *)p; break;					\
	}										\
											\
	mask = (~0ULL << rshift) >> lshift;						\
	val = (val & ~mask) | ((nval << rpad) & mask);					\
											\
	switch (byte_size) {								\
	case 1: *(unsigned char *)p = val; break;					\
	case 2: *(unsigned short *)p = val; break;					\
	case 4: *(unsigned int *)p = val; break;					\
	case 8: *(unsigned long long *)p = val; break;					\
	}										\
})

/* --- relocatable questions about fields, types and enumerators ------------------------------ */

/* A null pointer of a type: the builtins only look at the expression's type. */
#ifdef __clang__
#define ___bpf_typeof(type) ((typeof(type) *)0)
#else
#define ___bpf_typeof(type) ___bpf_typeof1(type, __COUNTER__)
#define ___bpf_typeof1(type, NR) ({							\
	extern typeof(type) *___concat(bpf_type_tmp_, NR);				\
	___concat(bpf_type_tmp_, NR);							\
})
#endif

/* bpf_core_field_*(expr) or bpf_core_field_*(type, field) */
#ifdef __clang__
#define __bpfbuild_field_ref1(field) (field)
#define __bpfbuild_field_ref2(type, field) (___bpf_typeof(type)->field)
#else
#define __bpfbuild_field_ref1(field) (&(field))
#define __bpfbuild_field_ref2(type, field) (&(___bpf_typeof(type)->field))
#endif
#define __bpfbuild_field_ref(args...) ___bpf_apply(__bpfbuild_field_ref, ___bpf_narg(args))(args)

#define bpf_core_field_exists(field...) \
	__builtin_preserve_field_info(__bpfbuild_field_ref(field), BPF_FIELD_EXISTS)
#define bpf_core_field_size(field...) \
	__builtin_preserve_field_info(__bpfbuild_field_ref(field), BPF_FIELD_BYTE_SIZE)
#define bpf_core_field_offset(field...) \
	__builtin_preserve_field_info(__bpfbuild_field_ref(field), BPF_FIELD_BYTE_OFFSET)

#define bpf_core_type_id_local(type) __builtin_btf_type_id(*___bpf_typeof(type), BPF_TYPE_ID_LOCAL)
#define bpf_core_type_id_kernel(type) __builtin_btf_type_id(*___bpf_typeof(type), BPF_TYPE_ID_TARGET)
#define bpf_core_type_exists(type) __builtin_preserve_type_info(*___bpf_typeof(type), BPF_TYPE_EXISTS)
#define bpf_core_type_matches(type) __builtin_preserve_type_info(*___bpf_typeof(type), BPF_TYPE_MATCHES)
#define bpf_core_type_size(type) __builtin_preserve_type_info(*___bpf_typeof(type), BPF_TYPE_SIZE)

#ifdef __clang__
#define bpf_core_enum_value_exists(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, BPF_ENUMVAL_EXISTS)
#define bpf_core_enum_value(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, BPF_ENUMVAL_VALUE)
#else
#define bpf_core_enum_value_exists(enum_type, enum_value) \
	__builtin_preserve_enum_value(___bpf_typeof(enum_type), enum_value, BPF_ENUMVAL_EXISTS)
#define bpf_core_enum_value(enum_type, enum_value) \
	__builtin_preserve_enum_value(___bpf_typeof(enum_type), enum_value, BPF_ENUMVAL_VALUE)
#endif

/* --- one relocatable read ---------------------------------------------------------------------- */

#define bpf_core_read(dst, sz, src) \
	bpf_probe_read_kernel(dst, sz, (const void *)__builtin_preserve_access_index(src))
#define bpf_core_read_user(dst, sz, src) \
	bpf_probe_read_user(dst, sz, (const void *)__builtin_preserve_access_index(src))
#define bpf_core_read_str(dst, sz, src) \
	bpf_probe_read_kernel_str(dst, sz, (const void *)__builtin_preserve_access_index(src))
#define bpf_core_read_user_str(dst, sz, src) \
	bpf_probe_read_user_str(dst, sz, (const void *)__builtin_preserve_access_index(src))

/* A kernel pointer as a read-only pointer of the target's type (kfunc bpf_rdonly_cast). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#define bpf_core_cast(ptr, type) \
	((typeof(type) *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(type)))

/* --- chains of reads: BPF_CORE_READ(src, a, b, c) ----------------------------------------------
 * Every hop but the last reads a pointer (8 bytes) into one `const void *__t`, cast back to the
 * type of the chain so far for the next hop's address; the last hop reads sizeof(*dst) bytes
 * into dst.  Each accessor may be a member path (a.b[2].c).  Up to 10 accessors. */
#define ___concat(a, b) a ## b
#define ___apply(fn, n) ___concat(fn, n)
#define ___nth(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, __11, N, ...) N
#define ___narg(...) ___nth(_, ##__VA_ARGS__, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
/* 0 when empty, N otherwise */
#define ___empty(...) ___nth(_, ##__VA_ARGS__, N, N, N, N, N, N, N, N, N, N, 0)

/* the last argument */
#define ___last1(x) x
#define ___last2(a, x) x
#define ___last3(a, b, x) x
#define ___last4(a, b, c, x) x
#define ___last5(a, b, c, d, x) x
#define ___last6(a, b, c, d, e, x) x
#define ___last7(a, b, c, d, e, f, x) x
#define ___last8(a, b, c, d, e, f, g, x) x
#define ___last9(a, b, c, d, e, f, g, h, x) x
#define ___last10(a, b, c, d, e, f, g, h, i, x) x
#define ___last(...) ___apply(___last, ___narg(__VA_ARGS__))(__VA_ARGS__)

/* all arguments but the last */
#define ___nolast2(a, _) a
#define ___nolast3(a, b, _) a, b
#define ___nolast4(a, b, c, _) a, b, c
#define ___nolast5(a, b, c, d, _) a, b, c, d
#define ___nolast6(a, b, c, d, e, _) a, b, c, d, e
#define ___nolast7(a, b, c, d, e, f, _) a, b, c, d, e, f
#define ___nolast8(a, b, c, d, e, f, g, _) a, b, c, d, e, f, g
#define ___nolast9(a, b, c, d, e, f, g, h, _) a, b, c, d, e, f, g, h
#define ___nolast10(a, b, c, d, e, f, g, h, i, _) a, b, c, d, e, f, g, h, i
#define ___nolast(...) ___apply(___nolast, ___narg(__VA_ARGS__))(__VA_ARGS__)

/* a->b->c... as an expression, and its type */
#define ___arrow1(a) a
#define ___arrow2(a, b) a->b
#define ___arrow3(a, b, c) a->b->c
#define ___arrow4(a, b, c, d) a->b->c->d
#define ___arrow5(a, b, c, d, e) a->b->c->d->e
#define ___arrow6(a, b, c, d, e, f) a->b->c->d->e->f
#define ___arrow7(a, b, c, d, e, f, g) a->b->c->d->e->f->g
#define ___arrow8(a, b, c, d, e, f, g, h) a->b->c->d->e->f->g->h
#define ___arrow9(a, b, c, d, e, f, g, h, i) a->b->c->d->e->f->g->h->i
#define ___arrow10(a, b, c, d, e, f, g, h, i, j) a->b->c->d->e->f->g->h->i->j
#define ___arrow(...) ___apply(___arrow, ___narg(__VA_ARGS__))(__VA_ARGS__)
#define ___type(...) typeof(___arrow(__VA_ARGS__))

/* one hop: read sizeof(*dst) bytes at &((src_type)src)->accessor */
#define ___read(read_fn, dst, src_type, src, accessor) \
	read_fn((void *)(dst), sizeof(*(dst)), &((src_type)(src))->accessor)

/* the pointer hops, leaving the last pointer in __t */
#define __bpfbuild_hop_first(fn, src, a) ___read(fn, &__t, ___type(src), src, a);
#define __bpfbuild_hop_next(fn, ...) \
	___read(fn, &__t, ___type(___nolast(__VA_ARGS__)), __t, ___last(__VA_ARGS__));
#define __bpfbuild_hops1(fn, ...) const void *__t; __bpfbuild_hop_first(fn, __VA_ARGS__)
#define __bpfbuild_hops2(fn, ...) __bpfbuild_hops1(fn, ___nolast(__VA_ARGS__)) __bpfbuild_hop_next(fn, __VA_ARGS__)
#define __bpfbuild_hops3(fn, ...) __bpfbuild_hops2(fn, ___nolast(__VA_ARGS__)) __bpfbuild_hop_next(fn, __VA_ARGS__)
#define __bpfbuild_hops4(fn, ...) __bpfbuild_hops3(fn, ___nolast(__VA_ARGS__)) __bpfbuild_hop_next(fn, __VA_ARGS__)
#define __bpfbuild_hops5(fn, ...) __bpfbuild_hops4(fn, ___nolast(__VA_ARGS__)) __bpfbuild_hop_next(fn, __VA_ARGS__)
#define __bpfbuild_hops6(fn, ...) __bpfbuild_hops5(fn, ___nolast(__VA_ARGS__)) __bpfbuild_hop_next(fn, __VA_ARGS__)
#define __bpfbuild_hops7(fn, ...) __bpfbuild_hops6(fn, ___nolast(__VA_ARGS__)) __bpfbuild_hop_next(fn, __VA_ARGS__)
#define __bpfbuild_hops8(fn, ...) __bpfbuild_hops7(fn, ___nolast(__VA_ARGS__)) __bpfbuild_hop_next(fn, __VA_ARGS__)
#define __bpfbuild_hops9(fn, ...) __bpfbuild_hops8(fn, ___nolast(__VA_ARGS__)) __bpfbuild_hop_next(fn, __VA_ARGS__)
#define __bpfbuild_hops(fn, src, ...) \
	___apply(__bpfbuild_hops, ___narg(__VA_ARGS__))(fn, src, __VA_ARGS__)

/* one accessor: a single read; more: the pointer hops with fn_ptr, the last read with fn */
#define __bpfbuild_chain0(fn, fn_ptr, dst, src, a) ___read(fn, dst, ___type(src), src, a);
#define __bpfbuild_chainN(fn, fn_ptr, dst, src, ...)					\
	__bpfbuild_hops(fn_ptr, src, ___nolast(__VA_ARGS__))				\
	___read(fn, dst, ___type(src, ___nolast(__VA_ARGS__)), __t, ___last(__VA_ARGS__));
#define __bpfbuild_chain(fn, fn_ptr, dst, src, a, ...) \
	___apply(__bpfbuild_chain, ___empty(__VA_ARGS__))(fn, fn_ptr, dst, src, a, ##__VA_ARGS__)

#define BPF_CORE_READ_INTO(dst, src, a, ...) ({ \
	__bpfbuild_chain(bpf_core_read, bpf_core_read, dst, (src), a, ##__VA_ARGS__) })
#define BPF_CORE_READ_USER_INTO(dst, src, a, ...) ({ \
	__bpfbuild_chain(bpf_core_read_user, bpf_core_read_user, dst, (src), a, ##__VA_ARGS__) })
#define BPF_PROBE_READ_INTO(dst, src, a, ...) ({ \
	__bpfbuild_chain(bpf_probe_read_kernel, bpf_probe_read_kernel, dst, (src), a, ##__VA_ARGS__) })
#define BPF_PROBE_READ_USER_INTO(dst, src, a, ...) ({ \
	__bpfbuild_chain(bpf_probe_read_user, bpf_probe_read_user, dst, (src), a, ##__VA_ARGS__) })

/* The string variants read the last hop with the *_str helper (dst is the buffer). */
#define BPF_CORE_READ_STR_INTO(dst, src, a, ...) ({ \
	__bpfbuild_chain(bpf_core_read_str, bpf_core_read, dst, (src), a, ##__VA_ARGS__) })
#define BPF_CORE_READ_USER_STR_INTO(dst, src, a, ...) ({ \
	__bpfbuild_chain(bpf_core_read_user_str, bpf_core_read_user, dst, (src), a, ##__VA_ARGS__) })
#define BPF_PROBE_READ_STR_INTO(dst, src, a, ...) ({ \
	__bpfbuild_chain(bpf_probe_read_kernel_str, bpf_probe_read_kernel, dst, (src), a, ##__VA_ARGS__) })
#define BPF_PROBE_READ_USER_STR_INTO(dst, src, a, ...) ({ \
	__bpfbuild_chain(bpf_probe_read_user_str, bpf_probe_read_user, dst, (src), a, ##__VA_ARGS__) })

/* The value of the chain (the last field's type). */
#define __bpfbuild_read_value(into, src, a, ...) ({					\
	___type((src), a, ##__VA_ARGS__) __r;						\
	into(&__r, (src), a, ##__VA_ARGS__);						\
	__r;										\
})
#define BPF_CORE_READ(src, a, ...) __bpfbuild_read_value(BPF_CORE_READ_INTO, src, a, ##__VA_ARGS__)
#define BPF_CORE_READ_USER(src, a, ...) \
	__bpfbuild_read_value(BPF_CORE_READ_USER_INTO, src, a, ##__VA_ARGS__)
#define BPF_PROBE_READ(src, a, ...) __bpfbuild_read_value(BPF_PROBE_READ_INTO, src, a, ##__VA_ARGS__)
#define BPF_PROBE_READ_USER(src, a, ...) \
	__bpfbuild_read_value(BPF_PROBE_READ_USER_INTO, src, a, ##__VA_ARGS__)

#endif /* BPFBUILD_BPF_CORE_READ_H */
