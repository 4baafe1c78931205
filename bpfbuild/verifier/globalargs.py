"""Arguments of global (non-static) functions, typed as Linux 6.18 types them.

Facts from ``btf_prepare_func_args`` (kernel/bpf/btf.c), ``btf_check_func_arg_match`` and
``do_check_common`` (kernel/bpf/verifier.c); the code is ours:

* ``arg:<tag>`` declaration tags (``__arg_ctx``, ``__arg_nonnull``, ``__arg_nullable``,
  ``__arg_trusted``, ``__arg_untrusted``, ``__arg_arena``) take precedence over the type.
* A pointer to the program type's context (or any pointer tagged ``arg:ctx`` whose type the
  program type allows) is ``PTR_TO_CTX``; a pointer to a sized type is ``PTR_TO_MEM`` of that
  size, NULL-able unless tagged ``arg:nonnull``; ``arg:trusted`` gives a trusted
  ``PTR_TO_BTF_ID`` of the kernel struct of the same name (NULL-able with ``arg:nullable``);
  ``arg:untrusted`` an untrusted one (read-only untrusted memory for ``void *`` and primitives);
  integers and enums are scalars.
* A prototype the kernel refuses (a bad combination of tags, a non-pointer with a pointer tag, an
  unsized pointee, a struct by value) refuses every call of the function: the message, then
  ``Caller passes invalid args into func#N ('name')``.

Dynptr and arena arguments are not modelled here: a function taking one gives the verdict
``unknown``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpfbuild.abi.progtypes import AttachType, ProgType
from bpfbuild.btf.types import (
    Array,
    Enum,
    Enum64,
    Float,
    FuncProto,
    Fwd,
    Int,
    Kind,
    Pointer,
    Struct,
    Typedef,
    Union,
)
from bpfbuild.errors import BpfBuildError, ProgramError
from bpfbuild.verifier import dynptr
from bpfbuild.verifier.checks import check_ptr_off_reg
from bpfbuild.verifier.state import BASE_MASK, Reg, RegFlag, RegType, VerifierState, reg_type_str

if TYPE_CHECKING:
    from bpfbuild.btf.spec import Spec
    from bpfbuild.verifier.env import Env, Subprog

__all__ = ["GlobalArg", "GlobalProto", "check_call_args", "init_args", "prepare_func_args"]

MAX_BPF_FUNC_REG_ARGS = 5

_TAGS = ("ctx", "trusted", "untrusted", "nonnull", "nullable", "arena")

#: the context struct each program type's functions take (``find_canonical_prog_ctx_type``,
#: from the kernel's BPF_PROG_TYPE list); a type missing here leaves an ``arg:ctx`` on a named
#: struct not modelled
_CANONICAL_CTX = {
    ProgType.SOCKET_FILTER: "__sk_buff", ProgType.SCHED_CLS: "__sk_buff", ProgType.SCHED_ACT: "__sk_buff",
    ProgType.CGROUP_SKB: "__sk_buff", ProgType.LWT_IN: "__sk_buff", ProgType.LWT_OUT: "__sk_buff",
    ProgType.LWT_XMIT: "__sk_buff", ProgType.LWT_SEG6LOCAL: "__sk_buff", ProgType.SK_SKB: "__sk_buff",
    ProgType.XDP: "xdp_md", ProgType.CGROUP_SOCK: "bpf_sock", ProgType.SOCK_OPS: "bpf_sock_ops",
    ProgType.CGROUP_SOCK_ADDR: "bpf_sock_addr", ProgType.SK_MSG: "sk_msg_md",
    ProgType.RAW_TRACEPOINT: "bpf_raw_tracepoint_args",
    ProgType.RAW_TRACEPOINT_WRITABLE: "bpf_raw_tracepoint_args",
    ProgType.PERF_EVENT: "bpf_perf_event_data", ProgType.CGROUP_DEVICE: "bpf_cgroup_dev_ctx",
    ProgType.CGROUP_SYSCTL: "bpf_sysctl", ProgType.CGROUP_SOCKOPT: "bpf_sockopt",
    ProgType.SK_REUSEPORT: "sk_reuseport_md", ProgType.SK_LOOKUP: "bpf_sk_lookup",
    ProgType.FLOW_DISSECTOR: "__sk_buff",
}


@dataclass(frozen=True, slots=True)
class GlobalArg:
    """One parameter: ``kind`` is ``scalar``, ``ctx``, ``mem`` (``mem_size`` bytes, ``nullable``),
    ``trusted`` / ``untrusted`` (a kernel struct ``struct``; trusted may be ``nullable``),
    ``untrusted_mem`` (read-only, unsized) or ``dynptr`` (a read-only ``struct bpf_dynptr *``)."""

    kind: str
    nullable: bool = False
    mem_size: int = 0
    struct: str = ""


@dataclass(frozen=True, slots=True)
class GlobalProto:
    """The typed parameters of a global function; ``error`` is the kernel's message where it
    refuses the prototype, ``unknown`` what is not modelled (both empty when it is typed)."""

    args: tuple[GlobalArg, ...] = ()
    error: str = ""
    unknown: str = ""


def _skip_mods(btf: Spec, tid: int, *, keep_typedef: bool = False) -> tuple[int, object]:
    t = btf.type(tid) if tid else None
    while t is not None and t.kind in (Kind.TYPEDEF, Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.TYPE_TAG):
        if keep_typedef and isinstance(t, Typedef):
            break
        tid = t.type  # type: ignore[attr-defined]
        t = btf.type(tid) if tid else None
    return tid, t


def _kind_str(t: object) -> str:
    """``btf_type_str``: the kind as the kernel's log names it."""
    if t is None:
        return "UNKNOWN"
    return {Kind.STRUCT: "STRUCT", Kind.UNION: "UNION", Kind.FWD: "FWD", Kind.FUNC_PROTO: "FUNC_PROTO",
            Kind.INT: "INT", Kind.PTR: "PTR", Kind.ARRAY: "ARRAY", Kind.ENUM: "ENUM", Kind.ENUM64: "ENUM64",
            Kind.FLOAT: "FLOAT", Kind.FUNC: "FUNC", Kind.VAR: "VAR", Kind.DATASEC: "DATASEC",
            Kind.TYPEDEF: "TYPEDEF", Kind.VOLATILE: "VOLATILE", Kind.CONST: "CONST",
            Kind.RESTRICT: "RESTRICT"}.get(t.kind, "UNKNOWN")  # type: ignore[attr-defined]


def _size(btf: Spec, tid: int) -> int | None:
    """``btf_resolve_size``: bytes of the type (arrays of sized elements included), None if unsized."""
    tid, t = _skip_mods(btf, tid)
    if isinstance(t, (Int, Enum, Enum64, Float, Struct, Union)):
        return int(t.size)
    if isinstance(t, Pointer):
        return 8
    if isinstance(t, Array):
        elem = _size(btf, t.type)
        return None if elem is None else elem * t.nelems
    return None


def _ctx_ok(btf: Spec, ptr: Pointer, prog_type: ProgType, attach: AttachType | None) -> bool | None:
    """``btf_validate_prog_ctx_type`` for an ``arg:ctx`` pointer: True/False, None not modelled."""
    tid, t = _skip_mods(btf, ptr.type, keep_typedef=True)
    if prog_type in (ProgType.KPROBE, ProgType.PERF_EVENT) and isinstance(t, Typedef):
        if t.name == "bpf_user_pt_regs_t":
            return True
    tid, t = _skip_mods(btf, ptr.type)
    if t is None:
        return True                         # void *
    name = getattr(t, "name", "")
    if not name:
        return False
    is_u64 = isinstance(t, Int) and t.size == 8
    if prog_type in (ProgType.TRACEPOINT, ProgType.SYSCALL, ProgType.EXT):
        return True
    if prog_type == ProgType.KPROBE and isinstance(t, Struct) and name == "pt_regs":
        return True
    if prog_type == ProgType.PERF_EVENT and isinstance(t, Struct) and name == "pt_regs":
        return True                          # x86-64: bpf_user_pt_regs_t is struct pt_regs
    if prog_type in (ProgType.RAW_TRACEPOINT, ProgType.RAW_TRACEPOINT_WRITABLE, ProgType.LSM,
                     ProgType.STRUCT_OPS) and is_u64:
        return True
    if prog_type == ProgType.TRACING:
        if attach == AttachType.TRACE_RAW_TP:
            return (isinstance(t, Struct) and name == "bpf_raw_tracepoint_args") or is_u64 or None
        if attach in (AttachType.TRACE_FENTRY, AttachType.TRACE_FEXIT, AttachType.MODIFY_RETURN) and is_u64:
            return True
        if attach == AttachType.TRACE_ITER and isinstance(t, Struct) and name.startswith("bpf_iter__"):
            return True
        return None
    canonical = _CANONICAL_CTX.get(prog_type)
    if canonical is None:
        return None
    return isinstance(t, Struct) and name == canonical


def _arg_tags(btf: Spec, func_id: int, nparams: int) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for i in range(nparams):
        tags = [name[4:] for name in btf.decl_tags(func_id, i) if name.startswith("arg:")]
        if tags:
            out[i] = tags
    return out


def prepare_func_args(btf: Spec, func_id: int, name: str, prog_type: ProgType, attach: AttachType | None,
                      ctx_structs: frozenset[str]) -> GlobalProto:
    """Type the parameters of the global function ``func_id`` (a BTF FUNC of the object's
    ``btf``) for a program of ``prog_type``; ``ctx_structs`` are the context struct names a
    pointer parameter is taken as the context for without a tag."""
    try:
        return _prepare(btf, func_id, name, prog_type, attach, ctx_structs)
    except (BpfBuildError, KeyError, IndexError) as exc:
        return GlobalProto(unknown=f"the BTF of function {name} (unreadable: {exc})")


def _prepare(btf: Spec, func_id: int, name: str, prog_type: ProgType, attach: AttachType | None,
             ctx_structs: frozenset[str]) -> GlobalProto:
    proto = btf.type(btf.type(func_id).type)  # type: ignore[attr-defined]
    if not isinstance(proto, FuncProto):
        return GlobalProto(error=f"Invalid type of function {name}()")
    params = proto.params
    if len(params) > MAX_BPF_FUNC_REG_ARGS:
        return GlobalProto(error=f"Global function {name}() with {len(params)} > {MAX_BPF_FUNC_REG_ARGS} args. "
                                 "Buggy compiler.")
    _, ret = _skip_mods(btf, proto.return_type)
    if not isinstance(ret, (Int, Enum, Enum64)):
        return GlobalProto(error=f"Global function {name}() doesn't return scalar. Only those are supported.")
    tags_of = _arg_tags(btf, func_id, len(params))
    args: list[GlobalArg] = []
    for i, p in enumerate(params):
        tags = set()
        for tag in tags_of.get(i, ()):
            if tag not in _TAGS:
                return GlobalProto(error=f"arg#{i} has unsupported set of tags")
            tags.add(tag)
        _, t = _skip_mods(btf, p.type)
        if not isinstance(t, Pointer):
            if tags:
                return GlobalProto(error=f"arg#{i} has pointer tag, but is not a pointer type")
            if isinstance(t, (Int, Enum, Enum64)):
                args.append(GlobalArg("scalar"))
                continue
            return GlobalProto(error=f"Arg#{i} type {_kind_str(t)} in {name}() is not supported yet.")
        _, target = _skip_mods(btf, t.type)
        target_name = getattr(target, "name", "") or ""
        is_ctx = isinstance(target, Struct) and target_name in ctx_structs
        if "ctx" in tags or is_ctx:
            if tags - {"ctx"}:
                return GlobalProto(error=f"arg#{i} has invalid combination of tags")
            if "ctx" in tags:
                ok = _ctx_ok(btf, t, prog_type, attach)
                if ok is None:
                    return GlobalProto(unknown=f"an arg:ctx parameter of {name}() (its type for this program type)")
                if not ok:
                    return GlobalProto(unknown=f"an arg:ctx parameter of {name}() of another type than the context")
            args.append(GlobalArg("ctx"))
            continue
        if isinstance(target, Struct) and target_name == "bpf_dynptr":
            if tags:
                return GlobalProto(error=f"arg#{i} has invalid combination of tags")
            args.append(GlobalArg("dynptr"))
            continue
        if "trusted" in tags:
            if "nonnull" in tags:
                return GlobalProto(error=f"arg#{i} has invalid combination of tags")
            if not isinstance(target, Struct) or not target_name:
                return GlobalProto(unknown=f"an arg:trusted parameter of {name}() (not a named struct)")
            args.append(GlobalArg("trusted", nullable="nullable" in tags, struct=target_name))
            continue
        if "untrusted" in tags:
            if tags - {"untrusted"}:
                return GlobalProto(error=f"arg#{i} untrusted cannot be combined with any other tags")
            if target is None or isinstance(target, (Int, Enum, Enum64, Float)):
                args.append(GlobalArg("untrusted_mem"))
                continue
            if not isinstance(target, Struct) or not target_name:
                return GlobalProto(unknown=f"an arg:untrusted parameter of {name}() (not a struct)")
            args.append(GlobalArg("untrusted", struct=target_name))
            continue
        if "arena" in tags:
            return GlobalProto(unknown=f"the arena parameter of global function {name}()")
        if "nullable" in tags:
            return GlobalProto(error=f"arg#{i} has invalid combination of tags")
        size = _size(btf, t.type)
        if size is None:
            _, pointee = _skip_mods(btf, t.type)
            what = f"{_kind_str(pointee)} {getattr(pointee, 'name', '') or ''}" if pointee is not None else "UNKNOWN "
            if isinstance(pointee, (Fwd, FuncProto)) or pointee is None:
                return GlobalProto(error=f"arg#{i} reference type('{what}') size cannot be determined: -22")
            return GlobalProto(unknown=f"the size of parameter {i} of {name}()")
        args.append(GlobalArg("mem", nullable="nonnull" not in tags, mem_size=size))
    return GlobalProto(tuple(args))


# ---- the verifier's side: the callee's registers, the caller's arguments ---------------------------------

def init_args(env: Env, sp: Subprog, regs: list[Reg]) -> None:
    """``do_check_common`` for a global function: R1.. as its prototype types them."""
    proto = sp.args
    if not isinstance(proto, GlobalProto) or proto.unknown or proto.error:
        if isinstance(proto, GlobalProto) and proto.unknown:
            env.not_modelled(proto.unknown)
        for r in regs[1:6]:
            r.mark_unknown()
        return
    for i, arg in enumerate(proto.args):
        r = regs[i + 1]
        r.mark_unknown()
        if arg.kind == "scalar":
            continue
        r.mark_known_zero()
        if arg.kind == "ctx":
            r.type = RegType.PTR_TO_CTX
        elif arg.kind == "dynptr":   # a read-only local dynptr (mark_dynptr_cb_reg)
            r.type = RegType.CONST_PTR_TO_DYNPTR
            r.id = env.new_id()
            r.dynptr_type = 1
            r.dynptr_first = True
        elif arg.kind in ("mem", "untrusted_mem"):
            r.type = RegType.PTR_TO_MEM
            if arg.kind == "untrusted_mem":
                r.type |= RegFlag.MEM_RDONLY | RegFlag.PTR_UNTRUSTED
            r.mem_size = arg.mem_size
            if arg.nullable:
                r.type |= RegFlag.PTR_MAYBE_NULL
                r.id = env.new_id()
        else:
            btf_id = _kernel_struct(env, arg.struct, sp.name)
            if btf_id is None:
                r.mark_unknown()
                continue
            flag = RegFlag.PTR_TRUSTED if arg.kind == "trusted" else RegFlag.PTR_UNTRUSTED
            r.type = int(RegType.PTR_TO_BTF_ID) | flag | (RegFlag.PTR_MAYBE_NULL if arg.nullable else 0)
            r.btf = env.kernel_btf
            r.btf_id = btf_id
            r.id = env.new_id()


def _kernel_struct(env: Env, name: str, func: str) -> int | None:
    """``btf_get_ptr_to_btf_id``: the one vmlinux struct the parameter's type names (CO-RE
    candidates: the name without its ``___flavour``); None with a note where no target BTF."""
    from bpfbuild.verifier.btfid import find

    kb = env.kernel_btf
    if kb is None:
        env.not_modelled(f"a parameter of {func}() of kernel type struct {name} (the target has no BTF)")
        return None
    ids = find(kb, name.split("___")[0], Kind.STRUCT)
    return ids[0] if len(ids) == 1 else None


def _struct_errors(env: Env, proto: GlobalProto) -> str:
    """The kernel's message where a trusted/untrusted parameter names no single vmlinux struct
    (vmlinux candidates are searched first; none there means no match or a module's type, both
    refused)."""
    from bpfbuild.verifier.btfid import find

    kb = env.kernel_btf
    if kb is None:
        return ""
    for i, arg in enumerate(proto.args):
        if arg.kind in ("trusted", "untrusted"):
            n = len(find(kb, arg.struct.split("___")[0], Kind.STRUCT))
            if n == 0:
                return f"arg#{i} reference type('STRUCT {arg.struct}') has no matches"
            if n > 1:
                return f"arg#{i} reference type('STRUCT {arg.struct}') is ambiguous"
    return ""


#: ``check_func_arg_reg_off`` (ARG_DONTCARE) of a register: (env, reg, regno) -> None
RegOffCheck = Callable[["Env", Reg, int], None]
#: ``check_mem_reg``'s helper-memory checks of ``size`` bytes at R``regno``, read then write
MemCheck = Callable[["Env", VerifierState, int, int], None]


def check_call_args(env: Env, st: VerifierState, subprog: int, reg_off: RegOffCheck, mem: MemCheck) -> None:
    """``btf_check_func_arg_match``: the caller's R1.. fit the global function's prototype
    (``reg_off`` and ``mem`` are the helper-argument checks of :mod:`.calls`)."""
    sp = env.subprogs[subprog]
    proto = sp.args
    if not isinstance(proto, GlobalProto):
        return
    if proto.unknown:
        env.not_modelled(proto.unknown)
        return
    lines: list[str] = []
    error = proto.error or _struct_errors(env, proto)
    if error:
        lines.append(error)
    else:
        try:
            for i, arg in enumerate(proto.args):
                msg = _check_arg(env, st, i, arg, sp.name, reg_off, mem)
                if msg:
                    lines.append(msg)
                    break
        except ProgramError as exc:
            lines.append(exc.message)
    if lines:
        lines.append(f"Caller passes invalid args into func#{subprog} ('{sp.name}')")
        raise env.error("\n".join(lines))


def _check_arg(env: Env, st: VerifierState, i: int, arg: GlobalArg, func: str, reg_off: RegOffCheck,
               mem: MemCheck) -> str:
    regno = i + 1
    reg = st.frames[-1].regs[regno]
    t = reg.type
    if arg.kind == "scalar":
        return "" if t == RegType.SCALAR_VALUE else f"R{regno} is not a scalar"
    if arg.kind in ("untrusted", "untrusted_mem"):
        return ""                      # read-only through probe loads: anything goes
    if arg.kind == "ctx":
        reg_off(env, reg, regno)
        return "" if t == RegType.PTR_TO_CTX else f"arg#{i} expects pointer to ctx"
    if arg.kind == "dynptr":   # ARG_PTR_TO_DYNPTR | MEM_RDONLY: process_dynptr_func
        if t == RegType.CONST_PTR_TO_DYNPTR:
            check_ptr_off_reg(env, reg, regno)
        elif t != RegType.PTR_TO_STACK:
            return f"arg#{i} expected pointer to stack or const struct bpf_dynptr"
        dynptr.check_init(env, st, reg, i, 0, False)
        dynptr.mark_read(env, st, reg)
        return ""
    if arg.kind == "mem":
        reg_off(env, reg, regno)
        if not reg.is_null:
            mem(env, st, regno, arg.mem_size)
        if not arg.nullable and t & RegFlag.PTR_MAYBE_NULL:
            return f"arg#{i} is expected to be non-NULL"
        return ""
    # trusted PTR_TO_BTF_ID
    if reg.is_null and arg.nullable:
        return ""
    base = t & BASE_MASK
    if base != RegType.PTR_TO_BTF_ID:
        if base == RegType.SCALAR_VALUE or base in _NOT_BTF:
            return f"R{regno} type={reg_type_str(t)} expected=ptr_, trusted_ptr_, rcu_ptr_"
        env.not_modelled(f"a {reg_type_str(t)} passed as the trusted argument of {func}()")
        return ""
    if t & RegFlag.PTR_UNTRUSTED:
        return f"R{regno} type={reg_type_str(t)} expected=ptr_, trusted_ptr_, rcu_ptr_"
    if t & RegFlag.PTR_MAYBE_NULL and not arg.nullable:
        return f"Possibly NULL pointer passed to helper arg{regno}"
    kb = env.kernel_btf
    need = _kernel_struct(env, arg.struct, func)
    if need is None:
        return ""
    trusted = bool(t & RegFlag.PTR_TRUSTED) or bool(reg.ref_obj_id)
    if t & ~(RegFlag.PTR_TRUSTED | RegFlag.PTR_MAYBE_NULL) != RegType.PTR_TO_BTF_ID or reg.btf is not kb \
            or reg.off or not trusted:
        env.not_modelled(f"a {reg_type_str(t)} passed as the trusted argument of {func}()")
        return ""
    if reg.btf_id != need:
        env.not_modelled(f"a {reg_type_str(t)} passed as the trusted argument of {func}() (another struct)")
    return ""


_NOT_BTF = frozenset({RegType.PTR_TO_CTX, RegType.PTR_TO_STACK, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MAP_KEY,
                      RegType.CONST_PTR_TO_MAP, RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META,
                      RegType.PTR_TO_PACKET_END, RegType.PTR_TO_MEM})
