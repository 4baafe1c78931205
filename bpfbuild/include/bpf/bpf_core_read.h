/* bpfbuild's header set: CO-RE reads (compile once, run everywhere).
 *
 * Field accesses wrapped in __builtin_preserve_access_index() produce CO-RE relocations in
 * .BTF.ext; the loader rewrites their offsets for the running kernel's types.
 *   BPF_CORE_READ(src, a, b, c)   reads src->a->b->c, one bpf_probe_read_kernel() per hop
 *   BPF_CORE_READ_INTO(&dst, src, a, b)
 *   bpf_core_read(dst, sz, src)   one relocatable read
 *   bpf_core_field_exists(x), bpf_core_field_size(x), bpf_core_type_exists(T)
 *   bpf_core_enum_value_exists(enum E, V), bpf_core_enum_value(enum E, V)
 *   bpf_core_type_matches(T), bpf_core_type_id_local(T), bpf_core_type_id_kernel(T)
 *   BPF_CORE_READ_BITFIELD_PROBED(src, field)   a bitfield's value, read with one probe
 *   BPF_CORE_READ_BITFIELD(src, field)          the same, reading memory directly (BTF pointers)
 */
#ifndef BPFBUILD_BPF_CORE_READ_H
#define BPFBUILD_BPF_CORE_READ_H

/* Relocation kinds understood by __builtin_preserve_field_info / type_info. */
enum bpf_field_info_kind {
	BPF_FIELD_BYTE_OFFSET = 0,
	BPF_FIELD_BYTE_SIZE = 1,
	BPF_FIELD_EXISTS = 2,
	BPF_FIELD_SIGNED = 3,
	BPF_FIELD_LSHIFT_U64 = 4,
	BPF_FIELD_RSHIFT_U64 = 5,
};
enum bpf_type_info_kind {
	BPF_TYPE_EXISTS = 0,
	BPF_TYPE_SIZE = 1,
	BPF_TYPE_MATCHES = 2,
};
/* ... by __builtin_btf_type_id (this object's BTF id, or the target kernel's) ... */
enum bpf_type_id_kind {
	BPF_TYPE_ID_LOCAL = 0,
	BPF_TYPE_ID_TARGET = 1,
};
/* ... and by __builtin_preserve_enum_value (the enumerator as `*(enum E *)V`). */
enum bpf_enum_value_kind {
	BPF_ENUMVAL_EXISTS = 0,
	BPF_ENUMVAL_VALUE = 1,
};

#define bpf_core_field_exists(field) __builtin_preserve_field_info(field, BPF_FIELD_EXISTS)
#define bpf_core_field_size(field) __builtin_preserve_field_info(field, BPF_FIELD_BYTE_SIZE)
#define bpf_core_field_offset(field) __builtin_preserve_field_info(field, BPF_FIELD_BYTE_OFFSET)
#define bpf_core_type_exists(type) __builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_EXISTS)
#define bpf_core_type_size(type) __builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_SIZE)
#define bpf_core_type_matches(type) __builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_MATCHES)
#define bpf_core_type_id_local(type) __builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_LOCAL)
#define bpf_core_type_id_kernel(type) __builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_TARGET)
/* Whether the target kernel's enum has the enumerator, and its value there. */
#define bpf_core_enum_value_exists(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, BPF_ENUMVAL_EXISTS)
#define bpf_core_enum_value(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, BPF_ENUMVAL_VALUE)

#define bpf_core_read(dst, sz, src) \
	bpf_probe_read_kernel(dst, sz, (const void *)__builtin_preserve_access_index(src))
#define bpf_core_read_str(dst, sz, src) \
	bpf_probe_read_kernel_str(dst, sz, (const void *)__builtin_preserve_access_index(src))

/* One hop: read (src)->field into dst with a relocatable address. */
#define __bpfbuild_core_hop(dst, src, field) \
	bpf_core_read((void *)(dst), sizeof(*(dst)), &(src)->field)

/* Chains of up to six fields; each intermediate pointer is read from kernel memory. */
#define __bpfbuild_core_chain1(dst, s, a) __bpfbuild_core_hop(dst, s, a)
#define __bpfbuild_core_chain2(dst, s, a, b) ({ typeof((s)->a) __p1; \
	__bpfbuild_core_hop(&__p1, s, a); __bpfbuild_core_hop(dst, __p1, b); })
#define __bpfbuild_core_chain3(dst, s, a, b, c) ({ typeof((s)->a) __p1; typeof((s)->a->b) __p2; \
	__bpfbuild_core_hop(&__p1, s, a); __bpfbuild_core_hop(&__p2, __p1, b); \
	__bpfbuild_core_hop(dst, __p2, c); })
#define __bpfbuild_core_chain4(dst, s, a, b, c, d) ({ typeof((s)->a) __p1; typeof((s)->a->b) __p2; \
	typeof((s)->a->b->c) __p3; __bpfbuild_core_hop(&__p1, s, a); __bpfbuild_core_hop(&__p2, __p1, b); \
	__bpfbuild_core_hop(&__p3, __p2, c); __bpfbuild_core_hop(dst, __p3, d); })
#define __bpfbuild_core_chain5(dst, s, a, b, c, d, e) ({ typeof((s)->a) __p1; typeof((s)->a->b) __p2; \
	typeof((s)->a->b->c) __p3; typeof((s)->a->b->c->d) __p4; __bpfbuild_core_hop(&__p1, s, a); \
	__bpfbuild_core_hop(&__p2, __p1, b); __bpfbuild_core_hop(&__p3, __p2, c); \
	__bpfbuild_core_hop(&__p4, __p3, d); __bpfbuild_core_hop(dst, __p4, e); })
#define __bpfbuild_core_chain6(dst, s, a, b, c, d, e, f) ({ typeof((s)->a) __p1; typeof((s)->a->b) __p2; \
	typeof((s)->a->b->c) __p3; typeof((s)->a->b->c->d) __p4; typeof((s)->a->b->c->d->e) __p5; \
	__bpfbuild_core_hop(&__p1, s, a); __bpfbuild_core_hop(&__p2, __p1, b); \
	__bpfbuild_core_hop(&__p3, __p2, c); __bpfbuild_core_hop(&__p4, __p3, d); \
	__bpfbuild_core_hop(&__p5, __p4, e); __bpfbuild_core_hop(dst, __p5, f); })

#define __bpfbuild_core_nargs(...) __bpfbuild_core_nargs_(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define __bpfbuild_core_nargs_(_1, _2, _3, _4, _5, _6, N, ...) N
#define __bpfbuild_core_cat(a, b) __bpfbuild_core_cat_(a, b)
#define __bpfbuild_core_cat_(a, b) a ## b

#define BPF_CORE_READ_INTO(dst, src, ...) \
	__bpfbuild_core_cat(__bpfbuild_core_chain, __bpfbuild_core_nargs(__VA_ARGS__))(dst, src, __VA_ARGS__)

/* The value of src->a->b...: the type of the last field. */
#define __bpfbuild_core_last_type1(s, a) typeof((s)->a)
#define __bpfbuild_core_last_type2(s, a, b) typeof((s)->a->b)
#define __bpfbuild_core_last_type3(s, a, b, c) typeof((s)->a->b->c)
#define __bpfbuild_core_last_type4(s, a, b, c, d) typeof((s)->a->b->c->d)
#define __bpfbuild_core_last_type5(s, a, b, c, d, e) typeof((s)->a->b->c->d->e)
#define __bpfbuild_core_last_type6(s, a, b, c, d, e, f) typeof((s)->a->b->c->d->e->f)

#define BPF_CORE_READ(src, ...) ({						\
	__bpfbuild_core_cat(__bpfbuild_core_last_type, __bpfbuild_core_nargs(__VA_ARGS__))(src, __VA_ARGS__) \
		__bpfbuild_core_val;						\
	BPF_CORE_READ_INTO(&__bpfbuild_core_val, src, __VA_ARGS__);		\
	__bpfbuild_core_val;							\
})

/* Bitfields: the loader relocates the byte offset and size of the storage unit holding the field
 * and the shifts that isolate it in a 64-bit value (little-endian: the unit's bytes are the low
 * bytes of the value); the field's signedness picks an arithmetic or a logical right shift. */
#define __bpfbuild_core_bitfield_finish(src, field, raw) ({					\
	unsigned long long __bf = (raw) << __builtin_preserve_field_info((src)->field, BPF_FIELD_LSHIFT_U64); \
	__builtin_preserve_field_info((src)->field, BPF_FIELD_SIGNED) ?				\
		(unsigned long long)((long long)__bf >>						\
			__builtin_preserve_field_info((src)->field, BPF_FIELD_RSHIFT_U64)) :	\
		__bf >> __builtin_preserve_field_info((src)->field, BPF_FIELD_RSHIFT_U64);	\
})

#define BPF_CORE_READ_BITFIELD_PROBED(src, field) ({						\
	unsigned long long __raw = 0;								\
	bpf_probe_read_kernel(&__raw,								\
		__builtin_preserve_field_info((src)->field, BPF_FIELD_BYTE_SIZE),		\
		(const char *)(src) + __builtin_preserve_field_info((src)->field, BPF_FIELD_BYTE_OFFSET)); \
	__bpfbuild_core_bitfield_finish(src, field, __raw);					\
})

#define BPF_CORE_READ_BITFIELD(src, field) ({							\
	const void *__p = (const char *)(src) +							\
		__builtin_preserve_field_info((src)->field, BPF_FIELD_BYTE_OFFSET);		\
	unsigned long long __raw;								\
	switch (__builtin_preserve_field_info((src)->field, BPF_FIELD_BYTE_SIZE)) {		\
	case 1: __raw = *(const unsigned char *)__p; break;					\
	case 2: __raw = *(const unsigned short *)__p; break;					\
	case 4: __raw = *(const unsigned int *)__p; break;					\
	case 8: __raw = *(const unsigned long long *)__p; break;				\
	default: __raw = 0;									\
	}											\
	__bpfbuild_core_bitfield_finish(src, field, __raw);					\
})

#endif /* BPFBUILD_BPF_CORE_READ_H */
