/* bpfbuild's header set: USDT probes (user-level statically defined tracepoints).
 *
 *   SEC("usdt") int BPF_USDT(name, T1 a, T2 b)   a handler whose arguments are the probe's own
 *                                                 (up to 12), fetched through the probe's spec
 *   bpf_usdt_arg_cnt(ctx)            how many arguments the traced probe has (-ESRCH: no spec)
 *   bpf_usdt_arg(ctx, i, &v)         argument i (from 0) as a long; 0, or -ESRCH / -ENOENT (no such
 *                                    argument) / -EINVAL (unknown location kind) / a read's error,
 *                                    and then v is 0
 *   bpf_usdt_cookie(ctx)             the cookie given at attach time (bpf_usdt_opts.usdt_cookie);
 *                                    0 when there is none
 *
 * The attaching side is libbpf's user space (bpf_program__attach_usdt): it parses each probe's
 * argument notes ("-4@-1204(%rbp)", "8@%rax", "-4@$-9") into the specs below and writes them into
 * the two maps this header defines.  Their names, map types, key/value types and the struct
 * layouts are therefore a binary contract with libbpf and must stay exactly as libbpf's usdt.c
 * expects them (libbpf 1.x).  Which spec belongs to the firing probe comes from the BPF cookie
 * (bpf_get_attach_cookie) where the kernel has cookies (LINUX_HAS_BPF_COOKIE, a __kconfig the
 * loader resolves), else from the probe's address in the ip map.
 *
 * Sizes of the maps (define before including):
 *   BPF_USDT_MAX_SPEC_CNT   entries of __bpf_usdt_specs (default 256)
 *   BPF_USDT_MAX_IP_CNT     entries of __bpf_usdt_ip_to_spec_id (default 4 * BPF_USDT_MAX_SPEC_CNT;
 *                           unused when the kernel has BPF cookies)
 * Needs `struct pt_regs` from vmlinux.h or <linux/ptrace.h>, like bpf_tracing.h.
 */
#ifndef BPFBUILD_USDT_BPF_H
#define BPFBUILD_USDT_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* The errno values returned below (the same numbers as <asm-generic/errno-base.h>; defined here so
 * the header needs no kernel UAPI errno header next to vmlinux.h). */
#ifndef ENOENT
#define ENOENT 2
#endif
#ifndef ESRCH
#define ESRCH 3
#endif
#ifndef E2BIG
#define E2BIG 7
#endif
#ifndef EINVAL
#define EINVAL 22
#endif

#ifndef BPF_USDT_MAX_SPEC_CNT
#define BPF_USDT_MAX_SPEC_CNT 256
#endif
#ifndef BPF_USDT_MAX_IP_CNT
#define BPF_USDT_MAX_IP_CNT (4 * BPF_USDT_MAX_SPEC_CNT)
#endif

/* Most arguments one probe can have (USDT_MAX_ARG_CNT in libbpf's usdt.c). */
#define BPF_USDT_MAX_ARG_CNT 12

/* Where an argument lives. */
enum __bpf_usdt_arg_type {
	BPF_USDT_ARG_CONST = 0,		/* a constant: val_off is the value */
	BPF_USDT_ARG_REG = 1,		/* a register: the pt_regs field at reg_off */
	BPF_USDT_ARG_REG_DEREF = 2,	/* user memory at (register at reg_off) + val_off */
};

/* One argument, as libbpf fills it in (24 bytes: u64, enum, short, bool, char, padding). */
struct __bpf_usdt_arg_spec {
	__u64 val_off;				/* constant, or offset added to the register */
	enum __bpf_usdt_arg_type arg_type;
	short reg_off;				/* offsetof(struct pt_regs, <register>) */
	bool arg_signed;			/* sign-extend when widening to 64 bits */
	char arg_bitshift;			/* 64 - 8 * (argument size in bytes) */
};

/* One probe's spec: its arguments, the user's cookie and the argument count. */
struct __bpf_usdt_spec {
	struct __bpf_usdt_arg_spec args[BPF_USDT_MAX_ARG_CNT];
	__u64 usdt_cookie;
	short arg_cnt;
};

/* spec id -> spec.  Weak: every object including this header shares one map when linked. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPF_USDT_MAX_SPEC_CNT);
	__type(key, int);
	__type(value, struct __bpf_usdt_spec);
} __bpf_usdt_specs SEC(".maps") __weak;

/* probe address -> spec id, for kernels without BPF cookies. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPF_USDT_MAX_IP_CNT);
	__type(key, long);
	__type(value, __u32);
} __bpf_usdt_ip_to_spec_id SEC(".maps") __weak;

/* Filled in by the loader: whether bpf_get_attach_cookie() is available. */
extern const _Bool LINUX_HAS_BPF_COOKIE __kconfig;

/* The firing probe's spec id: its BPF cookie, or (kernels without cookies) the id the ip map
 * holds for the probe's address; -ESRCH when there is none. */
static __always_inline int __bpf_usdt_spec_id(struct pt_regs *ctx)
{
	if (!LINUX_HAS_BPF_COOKIE) {
		long ip = PT_REGS_IP(ctx);
		int *id = bpf_map_lookup_elem(&__bpf_usdt_ip_to_spec_id, &ip);

		return id ? *id : -ESRCH;
	}
	return bpf_get_attach_cookie(ctx);
}

__weak __hidden
int bpf_usdt_arg_cnt(struct pt_regs *ctx)
{
	struct __bpf_usdt_spec *spec;
	int id = __bpf_usdt_spec_id(ctx);

	if (id < 0)
		return -ESRCH;
	spec = bpf_map_lookup_elem(&__bpf_usdt_specs, &id);
	if (!spec)
		return -ESRCH;
	return spec->arg_cnt;
}

__weak __hidden
int bpf_usdt_arg(struct pt_regs *ctx, __u64 arg_num, long *res)
{
	struct __bpf_usdt_spec *spec;
	struct __bpf_usdt_arg_spec *arg;
	unsigned long v;
	int err, id;

	*res = 0;
	id = __bpf_usdt_spec_id(ctx);
	if (id < 0)
		return -ESRCH;
	spec = bpf_map_lookup_elem(&__bpf_usdt_specs, &id);
	if (!spec)
		return -ESRCH;
	if (arg_num >= BPF_USDT_MAX_ARG_CNT)
		return -ENOENT;
	/* keep the constant bound above as a separate check the verifier sees */
	barrier_var(arg_num);
	if (arg_num >= spec->arg_cnt)
		return -ENOENT;
	arg = &spec->args[arg_num];

	switch (arg->arg_type) {
	case BPF_USDT_ARG_CONST:
		v = arg->val_off;
		break;
	case BPF_USDT_ARG_REG:
		/* the register's saved value, read from pt_regs at the offset libbpf recorded */
		err = bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + arg->reg_off);
		if (err)
			return err;
		break;
	case BPF_USDT_ARG_REG_DEREF:
		/* eight bytes of the traced process's memory at register + offset */
		err = bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + arg->reg_off);
		if (err)
			return err;
		err = bpf_probe_read_user(&v, sizeof(v), (void *)v + arg->val_off);
		if (err)
			return err;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		/* a narrower argument sits in the high-order bytes of what was read */
		v >>= arg->arg_bitshift;
#endif
		break;
	default:
		return -EINVAL;
	}

	/* keep the argument's own low-order bytes, widened (signed or not) to 64 bits */
	v <<= arg->arg_bitshift;
	if (arg->arg_signed)
		v = ((long)v) >> arg->arg_bitshift;
	else
		v = v >> arg->arg_bitshift;
	*res = v;
	return 0;
}

__weak __hidden
long bpf_usdt_cookie(struct pt_regs *ctx)
{
	struct __bpf_usdt_spec *spec;
	int id = __bpf_usdt_spec_id(ctx);

	if (id < 0)
		return 0;
	spec = bpf_map_lookup_elem(&__bpf_usdt_specs, &id);
	if (!spec)
		return 0;
	return spec->usdt_cookie;
}

/* BPF_USDT: argument i of the handler is bpf_usdt_arg(ctx, i) (0 when missing), cast to the
 * declared type by the call, as BPF_KPROBE does with registers; up to 12 arguments. */
#define __bpfbuild_usdt_get(i, n) ({ long _x; bpf_usdt_arg(ctx, i, &_x); _x; })
#define __bpfbuild_usdt_args(args...) ctx __bpfbuild_each(__bpfbuild_usdt_get, args)

#define BPF_USDT(name, args...)									\
name(struct pt_regs *ctx);									\
static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args);		\
typeof(name(0)) name(struct pt_regs *ctx)							\
{												\
	_Pragma("GCC diagnostic push")								\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")					\
	return ____##name(__bpfbuild_usdt_args(args));					\
	_Pragma("GCC diagnostic pop")								\
}												\
static __always_inline typeof(name(0)) ____##name(struct pt_regs *ctx, ##args)

#endif /* BPFBUILD_USDT_BPF_H */
