"""Calls to kernel functions (kfuncs): ``check_kfunc_call`` and friends of Linux 6.18.

A kfunc call is ``call`` with src_reg ``BPF_PSEUDO_KFUNC_CALL`` and the kfunc's BTF id in
``imm`` (libbpf resolved the ``extern ... __ksym`` declaration against the target kernel's BTF).
Its prototype is that BTF's FUNC_PROTO; its ``KF_*`` flags and the program types that may call
it are :mod:`bpfbuild.abi.kfuncs`.  The steps follow the kernel's order:

1. the kfunc is found and allowed for the program type (``fetch_kfunc_meta``: "calling kernel
   function X is not allowed"); sleepable kfuncs need a sleepable program;
2. each argument is checked against its BTF parameter (``check_kfunc_args``): scalars, ``__k``
   constants, ``__ign``, pointers that may be NULL only with ``__nullable``, the program's
   context, memory (and ``__sz`` size pairs), PTR_TO_BTF_ID with the trusted/RCU rules of
   ``KF_TRUSTED_ARGS``/``KF_RCU``, and open-coded iterators on the stack (STACK_ITER slots);
3. ``bpf_rcu_read_lock``/``unlock`` and ``bpf_preempt_disable``/``enable`` sections, no
   sleepable kfunc with IRQs disabled (IRQ flag arguments: :mod:`bpfbuild.verifier.irq`), then
   ``KF_RCU_PROTECTED`` kfuncs only in an RCU section;
4. a release kfunc drops its reference; r0-r5 are clobbered; r0 gets the BTF return type (a
   scalar, read-only memory for pointers to scalars, PTR_TO_BTF_ID otherwise), maybe NULL with
   ``KF_RET_NULL``, a new reference with ``KF_ACQUIRE``;
5. ``bpf_iter_*_next`` forks: the current path sees the iterator drained (r0 = NULL), a queued
   path sees it active one level deeper (``process_iter_next_call``); the loop converges in
   :func:`bpfbuild.verifier.explore.Checker.is_state_visited`.

What is not modelled (dynptrs, linked lists and rbtrees, allocated objects, callbacks, kfuncs
of kernel modules, struct walks that a BTF-typed argument needs) is recorded with
``env.not_modelled``: the verdict is then ``unknown``, never a guess.  Loads through the
PTR_TO_BTF_ID pointers kfuncs return are :mod:`bpfbuild.verifier.btfid`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass

from bpfbuild.abi.ctx import ctx_spec
from bpfbuild.abi.kfuncs import KF, Kfunc, kfunc_allowed, kfunc_info
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.btf.types import Kind
from bpfbuild.errors import BpfBuildError, ProgramError
from bpfbuild.isa.instruction import Instruction
from bpfbuild.verifier import btfid, dynptr, graph, irq, precision, reslock, transfer
from bpfbuild.verifier.checks import (
    Access,
    check_mem_access,
    check_mem_size_reg,
    check_ptr_off_reg,
    may_access_direct_pkt_data,
)
from bpfbuild.verifier.env import Env
from bpfbuild.verifier.equiv import widen_imprecise_scalars
from bpfbuild.verifier.kfunc_btf import btf_func
from bpfbuild.verifier.state import (
    BASE_MASK,
    FuncState,
    Reg,
    RefState,
    RegFlag,
    RegType,
    SlotType,
    VerifierState,
    reg_type_str,
)

__all__ = ["ITER_ACTIVE", "ITER_DRAINED", "KfuncMeta", "check_kfunc_call"]

ITER_ACTIVE = 1
ITER_DRAINED = 2

_T = RegType
_F = RegFlag
_ITER = SlotType.STACK_ITER
#: PTR_TO_BTF_ID modifiers that make a pointer trusted (BPF_REG_TRUSTED_MODIFIERS)
_TRUSTED_MODIFIERS = _F.MEM_ALLOC | _F.PTR_TRUSTED | _F.NON_OWN_REF
#: modifiers that make it unsafe (bpf_type_has_unsafe_modifiers)
_UNSAFE_MODIFIERS = _F.PTR_UNTRUSTED | _F.MEM_USER | _F.MEM_PERCPU   # (MEM_PERCPU only untrusted there)
#: pointee struct names the kernel gives special argument kinds this verifier does not model
_SPECIAL_STRUCTS = frozenset({
    "bpf_dynptr", "bpf_list_head", "bpf_list_node", "bpf_rb_root", "bpf_rb_node", "bpf_wq", "bpf_task_work",
    "bpf_refcount",
})
_SPECIAL_SUFFIXES = ("__str", "__map", "__alloc", "__refcounted_kptr", "__uninit", "__prog",
                     "__aux", "__iter")
#: the context structs of program types (btf_is_prog_ctx_type's user-visible names)
_CTX_STRUCTS = frozenset({
    "xdp_md", "__sk_buff", "pt_regs", "bpf_raw_tracepoint_args", "bpf_perf_event_data", "bpf_sock_addr",
    "bpf_sock", "bpf_sockopt", "bpf_sock_ops", "sk_msg_md", "sk_reuseport_md", "bpf_sk_lookup",
    "bpf_cgroup_dev_ctx", "bpf_sysctl", "bpf_nf_ctx", "user_pt_regs",
})
_SCALAR_KINDS = ("INT", "ENUM", "ENUM64")
#: the argument kinds :func:`bpfbuild.verifier.graph.process_graph_arg` checks
_GRAPH_KINDS = frozenset({"list_head", "list_node", "rb_root", "rb_node", "refcounted_kptr", "callback"})
#: check_func_arg_reg_off: the PTR_TO_BTF_ID types that may carry a fixed offset
_FIXED_OFF_OK = frozenset({_T.PTR_TO_BTF_ID, _T.PTR_TO_BTF_ID | _F.MEM_ALLOC, _T.PTR_TO_BTF_ID | _F.PTR_TRUSTED,
                           _T.PTR_TO_BTF_ID | _F.MEM_RCU, _T.PTR_TO_BTF_ID | _F.MEM_ALLOC | _F.NON_OWN_REF,
                           _T.PTR_TO_BTF_ID | _F.MEM_ALLOC | _F.NON_OWN_REF | _F.MEM_RCU})


@dataclass(slots=True)
class KfuncMeta:
    """``struct bpf_kfunc_call_arg_meta``: the kfunc and what its argument checks learnt."""

    func_id: int              # the kfunc's BTF id in the target kernel
    name: str
    info: Kfunc
    btf: object               # the kernel's btf.spec.Spec
    proto: object             # its FUNC_PROTO (btf.types.FuncProto)
    ref_obj_id: int = 0
    release_regno: int = 0
    r0_size: int = 0
    r0_rdonly: bool = False
    iter_frameno: int = -1
    iter_spi: int = -1
    iter_rcu: bool = False
    const_value: int = 0      # meta->arg_constant.value (a ``__k``/``__szk`` argument)
    dynptr: tuple[int, int, int] | None = None   # meta->initialized_dynptr: (type, id, ref_obj_id)
    subprogno: int = -1       # a callback argument's function (bpf_rbtree_add's less)
    graph_field: object = None   # meta->arg_{list_head,rbtree_root}.field (a fields.Field)
    graph_btf: object = None     # ... and the BTF its value type is in
    arg_btf: object = None       # meta->arg_btf / arg_btf_id: a node's or refcounted object's type
    arg_btf_id: int = 0
    arg_owning_ref: bool = False

    @property
    def flags(self) -> KF:
        return self.info.flags


class _NotModelled(Exception):
    """A kfunc feature this verifier does not model: the call gets the honest ``unknown``."""


# ---- BTF helpers ----------------------------------------------------------------------------------------

def _skip_mods(btf, type_id: int) -> tuple[int, object]:  # type: ignore[no-untyped-def]
    """``btf_type_skip_modifiers``: (id, type) under typedefs and qualifiers."""
    from bpfbuild.btf.types import Const, Restrict, Typedef, TypeTag, Volatile

    for _ in range(64):
        t = btf.type(type_id)
        if not isinstance(t, (Typedef, Const, Volatile, Restrict, TypeTag)):
            return type_id, t
        type_id = t.type
    raise _NotModelled("a typedef cycle in the kfunc's BTF")


def _kind(t: object) -> str:
    """``btf_type_str``: the kind's name as the kernel prints it."""
    name = t.kind.name   # type: ignore[attr-defined]
    return "UNKN" if name == "VOID" else name


def _is_scalar(t: object) -> bool:
    return _kind(t) in _SCALAR_KINDS


def _is_scalar_struct(btf, t: object, depth: int = 0) -> bool:  # type: ignore[no-untyped-def]
    """``__btf_type_is_scalar_struct``: a struct made of scalars (and arrays of them)."""
    from bpfbuild.btf.types import Array, Struct

    if not isinstance(t, Struct):
        return False
    for m in t.members:
        _mid, mt = _skip_mods(btf, m.type)
        if isinstance(mt, Struct):
            if depth >= 2 or not _is_scalar_struct(btf, mt, depth + 1):
                return False
            continue
        if isinstance(mt, Array):
            _eid, et = _skip_mods(btf, mt.type)
            if _is_scalar(et):
                continue
            if isinstance(et, Struct) and depth < 2 and _is_scalar_struct(btf, et, depth + 1):
                continue
            return False
        if not _is_scalar(mt):
            return False
    return True


def _suffix(name: str, suffix: str) -> bool:
    return len(name) > len(suffix) and name.endswith(suffix)


# ---- registers ------------------------------------------------------------------------------------------

def _is_trusted_reg(reg: Reg) -> bool:
    """``is_trusted_reg``: referenced, or only trusted modifiers (any other flag, MEM_RCU
    included, is unsafe: ``bpf_type_has_unsafe_modifiers``)."""
    if reg.ref_obj_id:
        return True
    unsafe = reg.type & ~BASE_MASK & ~_TRUSTED_MODIFIERS
    if reg.type & BASE_MASK in (_T.PTR_TO_SOCKET, _T.PTR_TO_SOCK_COMMON, _T.PTR_TO_TCP_SOCK):
        return not unsafe
    return bool(reg.type & _TRUSTED_MODIFIERS) and not unsafe


def _in_rcu_cs(env: Env, st: VerifierState) -> bool:
    return st.active_rcu_lock or bool(st.active_locks) or not env.sleepable


def _stack_frame(st: VerifierState, reg: Reg) -> FuncState:
    return st.frames[reg.frameno]


def _iter_spi(env: Env, reg: Reg, nr_slots: int, frame: FuncState, then: str) -> int:
    """``iter_get_spi``: the first slot of an iterator at a constant stack offset; -2 when it
    lies beyond the allocated stack (ERANGE: fine for a new iterator).  A bad offset is the
    kernel's two lines: the offset's, then the caller's ``then`` (``expected uninitialized
    iter_num as arg #0``), the one users see last."""
    return dynptr.stack_slot_obj_spi(env, reg, frame, "iter", nr_slots, then)


def _s64(x: int) -> int:
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >> 63 else x


# ---- the call -------------------------------------------------------------------------------------------

def check_kfunc_call(env: Env, st: VerifierState, insn: Instruction) -> VerifierState | None:
    """``check_kfunc_call`` for the current instruction; a kfunc or argument kind this verifier
    does not model makes the verdict ``unknown`` (r0-r5 then become what any call leaves).
    Returns the state of a callback to explore (bpf_rbtree_add's ``less``), if any."""
    try:
        return _check_kfunc_call(env, st, insn)
    except (_NotModelled, graph.GraphNotModelled) as exc:
        env.not_modelled(f"insn {env.insn_idx}: {exc}")
        regs = st.frames[-1].regs
        for i in range(6):
            regs[i].mark_not_init()
        regs[0].mark_unknown()
        return None


def _check_kfunc_call(env: Env, st: VerifierState, insn: Instruction) -> VerifierState | None:
    if insn.imm == 0:
        raise _NotModelled("a call to an unresolved (weak) kfunc")
    if insn.off != 0:
        raise _NotModelled("a call to a kfunc of a kernel module")
    found = btf_func(env, insn)
    if found is None:
        raise _NotModelled(f"a call to kfunc BTF id {insn.imm} (not a function in the target's BTF)")
    btf, proto, name = found
    info = kfunc_info(name)
    if info is None:
        raise _NotModelled(f"kfunc {name} (its flags are not in bpfbuild's table)")
    if not kfunc_allowed(name, env.prog_type):
        raise env.error(f"calling kernel function {name} is not allowed")
    if name == "__bpf_trap":
        # what clang emits for __builtin_trap(): the kernel refuses any reachable one
        raise env.error("unexpected __bpf_trap() due to uninitialized variable?")
    meta = KfuncMeta(insn.imm, name, info, btf, proto)
    flags = info.flags
    if name in reslock.LOCK_KFUNCS:
        reslock.fork_failed_lock(env, st)
    if name == "bpf_iter_css_task_new":
        raise _NotModelled(f"{name} (its program type allowlist)")
    if name == "bpf_dynptr_slice_rdwr":
        # some 6.18 builds refuse it outright ("bpf_dynptr_slice_rdwr() is not allowed"); which
        # kernels do is not probed
        raise _NotModelled(f"{name} (refused by some kernel builds)")
    sleepable = bool(flags & KF.SLEEPABLE)
    if sleepable and not env.sleepable:
        raise env.error(f"program must be sleepable to call sleepable kfunc {name}")
    _check_kfunc_args(env, st, meta)
    callback = None
    if name == "bpf_rbtree_add_impl":
        from bpfbuild.verifier.calls import _push_callback

        callback = _push_callback(env, st, meta, graph.set_rbtree_add_callback_state)  # type: ignore[arg-type]

    rcu_lock = name == "bpf_rcu_read_lock"
    rcu_unlock = name == "bpf_rcu_read_unlock"
    preempt_disable = name == "bpf_preempt_disable"
    preempt_enable = name == "bpf_preempt_enable"
    if st.active_rcu_lock:
        if (rcu_lock or rcu_unlock) and graph.in_rbtree_lock_required_cb(env, st):
            raise env.error("Calling bpf_rcu_read_{lock,unlock} in unnecessary rbtree callback")
        if rcu_lock:
            raise env.error(f"nested rcu read lock (kernel function {name})")
        if rcu_unlock:
            for frame in st.frames:
                for reg in _regs_and_spills(frame):
                    if reg.type & _F.MEM_RCU:
                        reg.type &= ~(_F.MEM_RCU | _F.PTR_MAYBE_NULL)
                        reg.type |= _F.PTR_UNTRUSTED
            st.active_rcu_lock = False
        elif sleepable:
            raise env.error(f"kernel func {name} is sleepable within rcu_read_lock region")
    elif rcu_lock:
        st.active_rcu_lock = True
    elif rcu_unlock:
        raise env.error(f"unmatched rcu read unlock (kernel function {name})")
    if st.active_preempt_locks:
        if preempt_disable:
            st.active_preempt_locks += 1
        elif preempt_enable:
            st.active_preempt_locks -= 1
        elif sleepable:
            raise env.error(f"kernel func {name} is sleepable within non-preemptible region")
    elif preempt_disable:
        st.active_preempt_locks += 1
    elif preempt_enable:
        raise env.error(f"unmatched attempt to enable preemption (kernel function {name})")
    if st.irqs and sleepable:
        raise env.error(f"kernel func {name} is sleepable within IRQ-disabled region")
    if flags & KF.RCU_PROTECTED and not _in_rcu_cs(env, st):
        raise env.error(f"kernel func {name} requires RCU critical section protection")

    regs = st.frames[-1].regs
    if meta.release_regno:
        reg = regs[meta.release_regno]
        if not transfer.release_reference(env, st, reg.ref_obj_id):
            raise env.error(f"kfunc {name}#{meta.func_id} reference has not been acquired before")
    graph.after_args(env, st, meta)
    for i in range(6):
        regs[i].mark_not_init()
    _set_return(env, st, meta)
    if flags & KF.ITER_NEXT:
        _process_iter_next_call(env, st, meta)
    return callback


def _regs_and_spills(frame: FuncState) -> list[Reg]:
    """``bpf_for_each_reg_in_vstate_mask`` with STACK_SPILL and STACK_ITER slots (unshared: the
    caller changes them)."""
    out = list(frame.regs)
    for spi, slot in enumerate(frame.stack):
        if slot.slot_type[7] in (SlotType.STACK_SPILL, _ITER):
            out.append(frame.wslot(spi).spilled_ptr)
    return out


def _set_return(env: Env, st: VerifierState, meta: KfuncMeta) -> None:
    from bpfbuild.btf.types import Pointer, Struct, Void

    btf = meta.btf
    r0 = st.frames[-1].regs[0]
    ret_id = meta.proto.return_type   # type: ignore[attr-defined]
    _rid, t = _skip_mods(btf, ret_id) if ret_id else (0, Void())
    flags = meta.flags
    if flags & KF.ACQUIRE and not (isinstance(t, Pointer) and isinstance(_skip_mods(btf, t.type)[1], Struct)) \
            and meta.name not in ("bpf_obj_new_impl", "bpf_percpu_obj_new_impl", "bpf_refcount_acquire_impl"):
        raise env.error("acquire kernel function does not return PTR_TO_BTF_ID")
    if _is_scalar(t):
        r0.mark_unknown()
        if meta.name in reslock.LOCK_KFUNCS and btf is env.kernel_btf:   # the lock is held: it returned 0
            r0.mark_const(0)
        return
    if isinstance(t, Void):
        return
    if not isinstance(t, Pointer):
        raise _NotModelled(f"the return type of {meta.name}")
    ptr_id, ptr_type = _skip_mods(btf, t.type) if t.type else (0, Void())
    ptr_name = getattr(ptr_type, "name", "") or ""
    if graph.set_graph_return(env, st, meta, r0, ptr_name):
        pass
    elif meta.name in ("bpf_dynptr_slice", "bpf_dynptr_slice_rdwr"):
        _set_slice_return(env, r0, meta)
    elif meta.name in _SPECIAL_RETURNS:
        _SPECIAL_RETURNS[meta.name](env, r0, meta)
    elif isinstance(ptr_type, Void):
        r0.mark_unknown()            # 'void *' is a scalar to the program
        return
    elif not isinstance(ptr_type, Struct):
        if not meta.r0_size:
            try:
                meta.r0_size = btf.size_of(ptr_id)   # type: ignore[attr-defined]
                meta.r0_rdonly = True
            except BpfBuildError:
                meta.r0_size = 0
        if not meta.r0_size:
            raise env.error(f"kernel function {meta.name} returns pointer type {_kind(ptr_type)} "
                            f"{getattr(ptr_type, 'name', '')} is not supported")
        r0.mark_known_zero()
        r0.type = _T.PTR_TO_MEM | (_F.MEM_RDONLY if meta.r0_rdonly else 0)
        r0.mem_size = meta.r0_size
        if meta.ref_obj_id:
            r0.ref_obj_id = meta.ref_obj_id
        if flags & KF.RCU_PROTECTED:
            r0.type |= _F.MEM_RCU
    else:
        r0.mark_known_zero()
        r0.type = _T.PTR_TO_BTF_ID
        r0.btf = btf
        r0.btf_id = ptr_id
        if flags & KF.ITER_NEXT:
            r0.type |= _F.MEM_RCU if meta.iter_rcu else _F.PTR_TRUSTED
    ret_null = bool(flags & KF.RET_NULL) and not (meta.name == "bpf_refcount_acquire_impl" and meta.arg_owning_ref)
    if ret_null:
        r0.type |= _F.PTR_MAYBE_NULL
        r0.id = env.new_id()
    if flags & KF.ACQUIRE:
        rid = env.new_id()
        st.refs.append(RefState(rid, env.insn_idx))
        if ret_null:
            r0.id = rid
        r0.ref_obj_id = rid
    graph.finish_return(env, st, meta, r0, ptr_name, bool(flags & KF.ACQUIRE))


# ---- arguments ------------------------------------------------------------------------------------------

def _check_kfunc_args(env: Env, st: VerifierState, meta: KfuncMeta) -> None:
    from bpfbuild.btf.types import Pointer, Void

    btf = meta.btf
    params = meta.proto.params   # type: ignore[attr-defined]
    nargs = len(params)
    if nargs > 5:
        raise env.error(f"Function {meta.name} has {nargs} > 5 args")
    regs = st.frames[-1].regs
    flags = meta.flags
    const_found = False
    i = 0
    while i < nargs:
        regno = i + 1
        reg = regs[regno]
        param = params[i]
        pname = param.name or ""
        _tid, t = _skip_mods(btf, param.type)
        if _suffix(pname, "__ign"):
            i += 1
            continue
        if _is_scalar(t):
            if reg.type != _T.SCALAR_VALUE:
                raise env.error(f"R{regno} is not a scalar")
            ret_buf = False
            if _suffix(pname, "__k"):
                if const_found:
                    raise _NotModelled(f"two constant arguments of {meta.name}")
                if reg.var_off.mask:
                    raise env.error(f"R{regno} must be a known constant")
                precision.mark_chain_precision(env, st, regno)
                const_found = True
                meta.const_value = reg.var_off.value
            elif pname == "rdonly_buf_size":
                meta.r0_rdonly = True
                ret_buf = True
            elif pname == "rdwr_buf_size":
                ret_buf = True
            if ret_buf:
                if meta.r0_size:
                    raise env.error("2 or more rdonly/rdwr_buf_size parameters for kfunc")
                if reg.var_off.mask:
                    raise env.error(f"R{regno} is not a const")
                meta.r0_size = reg.var_off.value
                precision.mark_chain_precision(env, st, regno)
            i += 1
            continue
        if not isinstance(t, Pointer):
            raise env.error(f"Unrecognized arg#{i} type {_kind(t)}")
        nullable = _suffix(pname, "__nullable")
        # the running 6.18 kernel refuses a maybe-NULL node for bpf_rbtree_add as for a trusted
        # argument (the 6.18 sources give the graph kfuncs no KF_TRUSTED_ARGS): graph.NULL_CHECKED
        if ((flags & (KF.TRUSTED_ARGS | KF.RCU | KF.RELEASE) or meta.name in graph.NULL_CHECKED)
                and (reg.is_null or reg.type & _F.PTR_MAYBE_NULL) and not nullable):
            raise env.error(f"Possibly NULL pointer passed to trusted arg{i}")
        if reg.ref_obj_id:
            if flags & KF.RELEASE and meta.ref_obj_id:
                raise env.error(f"verifier internal error: more than one arg with ref_obj_id R{regno} "
                                f"{reg.ref_obj_id} {meta.ref_obj_id}")
            meta.ref_obj_id = reg.ref_obj_id
            if flags & KF.RELEASE:
                meta.release_regno = regno
        ref_id, ref_t = _skip_mods(btf, t.type) if t.type else (0, Void())
        ref_name = getattr(ref_t, "name", "") or ""
        kind = _arg_kind(env, st, meta, i, pname, ref_t, ref_name, reg, nullable)
        if kind == "null":
            i += 1
            continue
        if kind in ("btf_id", "alloc") and flags & (KF.TRUSTED_ARGS | KF.RCU | KF.RELEASE):
            if not _is_trusted_reg(reg):
                if not flags & KF.RCU:
                    raise env.error(f"R{regno} must be referenced or trusted")
                if not reg.type & _F.MEM_RCU:
                    raise env.error(f"R{regno} must be a rcu pointer")
        _check_arg_reg_off(env, reg, regno, bool(flags & KF.RELEASE and reg.ref_obj_id))
        if kind == "ctx":
            if reg.type != _T.PTR_TO_CTX:
                raise env.error(f"arg#{i} expected pointer to ctx, but got {reg_type_str(reg.type)}")
        elif kind == "iter":
            _process_iter_arg(env, st, meta, regno, ref_t)
        elif kind == "alloc":
            _process_alloc_arg(env, meta, reg, i)
        elif kind == "dynptr":
            _process_dynptr_arg(env, st, meta, regno, _suffix(pname, "__uninit"))
        elif kind in _GRAPH_KINDS:
            graph.process_graph_arg(env, st, meta, kind, reg, regno, i)
        elif kind == "res_spin_lock":
            reslock.process_res_lock_arg(env, st, meta.name, reg, regno, i)
        elif kind == "irq_flag":
            irq.process_irq_flag(env, st, meta.name, regno)
        elif kind == "btf_id":
            base = reg.type & BASE_MASK
            if base != _T.PTR_TO_BTF_ID or (reg.type & _UNSAFE_MODIFIERS and not reg.type & _F.MEM_RCU):
                if base in (_T.PTR_TO_SOCKET, _T.PTR_TO_SOCK_COMMON, _T.PTR_TO_TCP_SOCK, _T.CONST_PTR_TO_MAP):
                    raise _NotModelled(f"a socket or map pointer passed to {meta.name}")
                trusted = reg.type & ~BASE_MASK & _TRUSTED_MODIFIERS
                raise env.error(f"arg#{i} is {reg_type_str(reg.type)} expected "
                                f"{reg_type_str(base | trusted)} or socket")
            _process_kf_arg_ptr_to_btf_id(env, meta, reg, i, ref_id, ref_t, ref_name)
        elif kind == "mem":
            try:
                size = btf.size_of(ref_id)   # type: ignore[attr-defined]
            except BpfBuildError:
                raise _NotModelled(f"argument {i} of {meta.name}: memory of unknown size") from None
            if not reg.is_null:
                _check_mem(env, st, regno, size)
        elif kind == "mem_size":
            size_reg = regs[regno + 1]
            if not (reg.is_null and (nullable or _suffix(pname, "__opt"))):
                try:
                    if size_reg.type != _T.SCALAR_VALUE:
                        raise env.error(f"R{regno + 1} is not a scalar")
                    check_mem_size_reg(env, size_reg, regno + 1, True)
                    if size_reg.umax:
                        _check_mem(env, st, regno, size_reg.umax)
                    precision.mark_chain_precision(env, st, regno + 1)
                except ProgramError as exc:
                    raise env.error(exc.message + f"\narg#{i} arg#{i + 1} memory, len pair leads to invalid "
                                    "memory access") from None
            if _suffix(params[i + 1].name or "", "__szk"):
                if const_found:
                    raise _NotModelled(f"two constant arguments of {meta.name}")
                if size_reg.var_off.mask:
                    raise env.error(f"R{regno + 1} must be a known constant")
                const_found = True
                meta.const_value = size_reg.var_off.value
            i += 1
        i += 1
    if flags & KF.RELEASE and not meta.release_regno:
        raise env.error(f"release kernel function {meta.name} expects refcounted PTR_TO_BTF_ID")


def _process_kf_arg_ptr_to_btf_id(env: Env, meta: KfuncMeta, reg: Reg, i: int, ref_id: int, ref_t: object,
                                  ref_name: str) -> None:
    """``process_kf_arg_ptr_to_btf_id``: the register points to the struct the parameter names,
    or (unless the match must be strict) to a struct whose first member, at offset 0, is one."""
    btf = meta.btf
    if reg.btf is not btf or reg.off or reg.var_off.mask or reg.var_off.value:
        raise _NotModelled(f"argument {i} of {meta.name}: a pointer into another BTF or at an offset "
                           "(struct walk not modelled)")
    strict = bool(meta.flags & KF.RELEASE and reg.ref_obj_id)
    reg_id, reg_t = _skip_mods(btf, reg.btf_id)
    if _struct_ids_match(btf, reg_id, ref_id, strict):
        return
    reg_name = getattr(reg_t, "name", "") or ""
    if reg_name.lstrip("_") == ref_name.lstrip("_") or reg_name.endswith("___") or "___" in ref_name:
        raise _NotModelled(f"argument {i} of {meta.name}: a projection or flavoured type")
    raise env.error(f"kernel function {meta.name} args#{i} expected pointer to {_kind(ref_t)} {ref_name} "
                    f"but R{i + 1} has a pointer to {_kind(reg_t)} {reg_name}")


def _struct_ids_match(btf, type_id: int, need_id: int, strict: bool) -> bool:  # type: ignore[no-untyped-def]
    """``btf_struct_ids_match`` at offset 0: the type itself, or (not strict) the struct that is
    its first member, recursively (``btf_struct_walk`` finding a nested struct at offset 0)."""
    from bpfbuild.btf.types import Struct, Union

    if type_id == need_id:
        return True
    if strict:
        return False
    for _ in range(32):
        t = btf.type(type_id)
        if not isinstance(t, (Struct, Union)):
            return False
        nxt = None
        for m in t.members:
            if m.bit_offset:
                break
            if m.bitfield_size:
                return False
            mid, mt = _skip_mods(btf, m.type)
            if _kind(mt) == "ARRAY":
                raise _NotModelled("a struct walk into an array member")
            try:
                if btf.size_of(mid) == 0:
                    continue
            except BpfBuildError:
                return False
            if isinstance(mt, (Struct, Union)):
                nxt = mid
            break
        if nxt is None:
            return False
        if nxt == need_id:
            return True
        type_id = nxt
    return False


def _arg_kind(env: Env, st: VerifierState, meta: KfuncMeta, i: int, pname: str, ref_t: object, ref_name: str,
              reg: Reg, nullable: bool) -> str:
    """``get_kfunc_ptr_arg_type`` for the kinds modelled here; raises _NotModelled for others."""
    from bpfbuild.btf.types import FuncProto, Struct, Void

    btf = meta.btf
    if meta.name == "bpf_cast_to_kern_ctx":
        return "ctx"
    if isinstance(ref_t, Struct) and ref_name in _CTX_STRUCTS:
        own = ctx_spec(env.prog_type, env.attach_type)
        if own is not None and own.layout.name != ref_name:
            # btf_is_prog_ctx_type is false: what the kernel makes of another type's context
            # struct is not modelled
            raise _NotModelled(f"argument {i} of {meta.name}: struct {ref_name}, the context of another "
                               "program type")
        return "ctx"
    if nullable and reg.is_null:
        return "null"
    if _suffix(pname, "__alloc"):
        return "alloc"
    if _suffix(pname, "__refcounted_kptr"):
        return "refcounted_kptr"
    if isinstance(ref_t, Struct) and ref_name == "bpf_dynptr":
        return "dynptr"
    if isinstance(ref_t, Struct) and ref_name in graph.GRAPH_ARG_KINDS:
        return graph.GRAPH_ARG_KINDS[ref_name]
    if _suffix(pname, "__irq_flag"):
        if meta.name not in irq.IRQ_KFUNCS:
            raise _NotModelled(f"argument {i} of {meta.name} ({pname})")
        return "irq_flag"
    if isinstance(ref_t, Struct) and ref_name == "bpf_res_spin_lock":
        return "res_spin_lock"
    if isinstance(ref_t, Struct) and ref_name in _SPECIAL_STRUCTS:
        raise _NotModelled(f"argument {i} of {meta.name} (struct {ref_name})")
    if any(_suffix(pname, s) for s in _SPECIAL_SUFFIXES):
        raise _NotModelled(f"argument {i} of {meta.name} ({pname})")
    if meta.flags & (KF.ITER_NEW | KF.ITER_NEXT | KF.ITER_DESTROY) and i == 0:
        return "iter"
    base = reg.type & BASE_MASK
    if base in (_T.PTR_TO_BTF_ID, _T.PTR_TO_SOCKET, _T.PTR_TO_SOCK_COMMON, _T.PTR_TO_TCP_SOCK,
                _T.CONST_PTR_TO_MAP):
        if not isinstance(ref_t, Struct):
            raise env.error(f"kernel function {meta.name} args#{i} pointer type {_kind(ref_t)} {ref_name} "
                            "is not supported")
        return "btf_id"
    if isinstance(ref_t, FuncProto):
        if graph.is_callback_kfunc(meta.name):
            return "callback"
        raise _NotModelled(f"argument {i} of {meta.name} (a callback)")
    params = meta.proto.params   # type: ignore[attr-defined]
    mem_size = False
    if i + 1 < len(params):
        nxt = params[i + 1].name or ""
        mem_size = _suffix(nxt, "__sz") or _suffix(nxt, "__szk")
    if (not _is_scalar(ref_t) and not _is_scalar_struct(btf, ref_t)
            and (not isinstance(ref_t, Void) if mem_size else True)):
        extra = "void, " if mem_size else ""
        raise env.error(f"arg#{i} pointer type {_kind(ref_t)} {ref_name} must point to {extra}scalar, "
                        "or struct with scalar")
    return "mem_size" if mem_size else "mem"


def _check_arg_reg_off(env: Env, reg: Reg, regno: int, release: bool) -> None:
    """``check_func_arg_reg_off`` for a kfunc argument."""
    if release:
        if reg.off:
            raise env.error(f"R{regno} must have zero offset when passed to release func or trusted arg to kfunc")
        check_ptr_off_reg(env, reg, regno)
        return
    t = reg.type
    base = t & BASE_MASK
    if base in (_T.PTR_TO_STACK, _T.PTR_TO_PACKET, _T.PTR_TO_PACKET_META, _T.PTR_TO_MAP_KEY, _T.PTR_TO_MAP_VALUE,
                _T.PTR_TO_ARENA, _T.SCALAR_VALUE) and t == base:
        return
    if t in (_T.PTR_TO_MEM, _T.PTR_TO_MEM | _F.MEM_RDONLY, _T.PTR_TO_MEM | _F.MEM_RINGBUF, _T.PTR_TO_BUF,
             _T.PTR_TO_BUF | _F.MEM_RDONLY):
        return
    if t in _FIXED_OFF_OK:
        check_ptr_off_reg(env, reg, regno, fixed_off_ok=True)
        return
    check_ptr_off_reg(env, reg, regno)


def _check_mem(env: Env, st: VerifierState, regno: int, size: int) -> None:
    """``check_mem_reg``/``check_kfunc_mem_size_reg``: ``size`` bytes readable at R[regno]."""
    from bpfbuild.verifier.calls import CallMeta, _check_helper_mem_access, _grow_depth

    reg = st.frames[-1].regs[regno]
    meta = CallMeta(0)
    saved = reg.copy() if reg.type & _F.PTR_MAYBE_NULL else None
    if saved is not None:
        transfer.mark_ptr_not_null_reg(reg)
    try:   # the kfunc may read and write the memory
        _check_helper_mem_access(env, st, regno, size, Access.READ, True, meta, False)
        _check_helper_mem_access(env, st, regno, size, Access.WRITE, True, meta, False)
    finally:
        if saved is not None:
            reg.assign(saved)
    for _regno, lo, hi, raw in meta.stack_writes:
        transfer.stack_helper_write(env, st.frames[reg.frameno], lo, hi, raw)
        _grow_depth(env, st, reg, lo)


# ---- allocated objects and casts ------------------------------------------------------------------------

def _process_alloc_arg(env: Env, meta: KfuncMeta, reg: Reg, i: int) -> None:
    """``KF_ARG_PTR_TO_ALLOC_BTF_ID``: bpf_obj_drop's object from bpf_obj_new (and the per-CPU pair)."""
    if reg.type == _T.PTR_TO_BTF_ID | _F.MEM_ALLOC:
        if meta.name != "bpf_obj_drop_impl":
            raise env.error(f"arg#{i} expected for bpf_obj_drop_impl()")
    elif reg.type == _T.PTR_TO_BTF_ID | _F.MEM_ALLOC | _F.MEM_PERCPU:
        if meta.name != "bpf_percpu_obj_drop_impl":
            raise env.error(f"arg#{i} expected for bpf_percpu_obj_drop_impl()")
    else:
        raise env.error(f"arg#{i} expected pointer to allocated object")
    if not reg.ref_obj_id:
        raise env.error("allocated object must be referenced")
    meta.arg_btf, meta.arg_btf_id = reg.btf, reg.btf_id


#: the kernel's own context struct of a program type (``bpf_ctx_convert``: the kern side), for
#: bpf_cast_to_kern_ctx; program types not listed give ``unknown``
_KERN_CTX = {
    ProgType.SCHED_CLS: "sk_buff", ProgType.SCHED_ACT: "sk_buff", ProgType.SOCKET_FILTER: "sk_buff",
    ProgType.CGROUP_SKB: "sk_buff", ProgType.SK_SKB: "sk_buff", ProgType.LWT_IN: "sk_buff",
    ProgType.LWT_OUT: "sk_buff", ProgType.LWT_XMIT: "sk_buff", ProgType.XDP: "xdp_buff",
}
#: BPF_GLOBAL_PERCPU_MA_MAX_SIZE
_PERCPU_MAX_SIZE = 512


def _obj_new_return(env: Env, r0: Reg, meta: KfuncMeta) -> None:
    """bpf_obj_new / bpf_percpu_obj_new: an object of the program's own struct type, allocated."""
    from bpfbuild.btf.types import Struct
    from bpfbuild.verifier.btfid import alloc_fields

    value = meta.const_value
    if value != value & 0xFFFFFFFF:
        raise env.error("local type ID argument must be in range [0, U32_MAX]")
    btf = env.prog_btf
    if btf is None:
        raise env.error("bpf_obj_new/bpf_percpu_obj_new requires prog BTF")
    try:
        t = btf.type(value)   # type: ignore[attr-defined]
    except (BpfBuildError, KeyError, IndexError):
        t = None
    if not isinstance(t, Struct):
        raise env.error("bpf_obj_new/bpf_percpu_obj_new type ID argument must be of a struct")
    special = alloc_fields(btf, value)
    percpu = meta.name == "bpf_percpu_obj_new_impl"
    if percpu:
        if t.size > _PERCPU_MAX_SIZE:
            raise env.error(f"bpf_percpu_obj_new type size ({t.size}) is greater than {_PERCPU_MAX_SIZE}")
        if special:
            raise env.error("bpf_percpu_obj_new type ID argument must not contain special fields")
        if not _is_scalar_struct(btf, t):
            raise env.error("bpf_percpu_obj_new type ID argument must be of a struct of scalars")
    else:
        locks = {name for name, _off, _size in special} & _UNMODELLED_ALLOC_FIELDS
        if locks:
            raise _NotModelled(f"an allocated struct {t.name} holding {', '.join(sorted(locks))}")
    r0.mark_known_zero()
    r0.type = _T.PTR_TO_BTF_ID | _F.MEM_ALLOC | (_F.MEM_PERCPU if percpu else 0)
    r0.btf = btf
    r0.btf_id = value


#: special fields of allocated objects whose rules are not modelled: bpf_obj_new of such a
#: struct gives ``unknown`` (a bpf_spin_lock is fine: locking one records its own note)
_UNMODELLED_ALLOC_FIELDS = frozenset({"bpf_timer", "bpf_wq", "bpf_task_work"})


def _cast_to_kern_ctx_return(env: Env, r0: Reg, meta: KfuncMeta) -> None:
    """bpf_cast_to_kern_ctx: the kernel's own context struct of the program type, trusted."""
    kernel_ctx = _KERN_CTX.get(env.prog_type)
    ids = btfid.find(meta.btf, kernel_ctx, Kind.STRUCT) if kernel_ctx else ()  # type: ignore[arg-type]
    if not ids:
        raise _NotModelled(f"bpf_cast_to_kern_ctx in a {env.prog_type.name.lower()} program")
    r0.mark_known_zero()
    r0.type = _T.PTR_TO_BTF_ID | _F.PTR_TRUSTED
    r0.btf = meta.btf
    r0.btf_id = ids[0]


def _rdonly_cast_return(env: Env, r0: Reg, meta: KfuncMeta) -> None:
    """bpf_rdonly_cast: the object seen as the kernel type ``btf_id__k``, untrusted (probe reads)."""
    from bpfbuild.btf.types import Struct, Union, Void

    value = meta.const_value
    try:
        t = meta.btf.type(value) if value else Void()  # type: ignore[attr-defined]
    except (BpfBuildError, KeyError, IndexError):
        raise env.error(f"Unknown type ID {_s64(value)} passed to kfunc bpf_rdonly_cast") from None
    r0.mark_known_zero()
    if isinstance(t, (Struct, Union)):   # btf_type_is_struct: a union too
        r0.type = _T.PTR_TO_BTF_ID | _F.PTR_UNTRUSTED
        r0.btf = meta.btf
        r0.btf_id = value
    elif isinstance(t, Void):
        r0.type = _T.PTR_TO_MEM | _F.MEM_RDONLY | _F.PTR_UNTRUSTED
        r0.mem_size = 0
    else:
        raise env.error("kfunc bpf_rdonly_cast type ID argument must be of a struct or void")


_SPECIAL_RETURNS = {
    "bpf_obj_new_impl": _obj_new_return,
    "bpf_percpu_obj_new_impl": _obj_new_return,
    "bpf_cast_to_kern_ctx": _cast_to_kern_ctx_return,
    "bpf_rdonly_cast": _rdonly_cast_return,
}


# ---- dynptrs -------------------------------------------------------------------------------------------

_DYNPTR_FROM = {"bpf_dynptr_from_skb": dynptr.SKB, "bpf_dynptr_from_xdp": dynptr.XDP,
                "bpf_dynptr_from_skb_meta": dynptr.SKB_META}


def _process_dynptr_arg(env: Env, st: VerifierState, meta: KfuncMeta, regno: int, uninit: bool) -> None:
    """``KF_ARG_PTR_TO_DYNPTR``: ``process_dynptr_func`` with the type the kfunc implies (a new
    skb/xdp dynptr, a clone of the dynptr seen before it)."""
    reg = st.frames[-1].regs[regno]
    if reg.type not in (_T.PTR_TO_STACK, _T.CONST_PTR_TO_DYNPTR):
        raise env.error(f"arg#{regno - 1} expected pointer to stack or const struct bpf_dynptr")
    want = _DYNPTR_FROM.get(meta.name, 0)
    clone_ref = 0
    if meta.name == "bpf_dynptr_clone" and uninit and meta.dynptr is not None:
        want, _id, clone_ref = meta.dynptr
    if uninit:
        dynptr.check_uninit(env, st, reg)
        if not want:
            raise _NotModelled(f"a new dynptr of no known type ({meta.name})")
        from bpfbuild.verifier.calls import mark_dynptr_stack_slots

        mark_dynptr_stack_slots(env, st, regno, want, clone_ref)
        return
    dynptr.check_init(env, st, reg, regno - 1, want, False)
    dynptr.mark_read(env, st, reg)
    meta.dynptr = dynptr.dynptr_info(st, reg)


def _set_slice_return(env: Env, r0: Reg, meta: KfuncMeta) -> None:
    """bpf_dynptr_slice(_rdwr): r0 is ``buffer__szk`` bytes of the dynptr's memory, tagged with
    its dynptr (and read-only for bpf_dynptr_slice)."""
    if meta.dynptr is None:
        raise _NotModelled(f"the return value of {meta.name}")
    dtype, did, _ref = meta.dynptr
    r0.mark_known_zero()
    r0.mem_size = meta.const_value
    r0.type = _T.PTR_TO_MEM | _F.DYNPTR_TYPED
    if dtype in (dynptr.SKB, dynptr.XDP, dynptr.SKB_META):
        r0.type |= _F.DYNPTR_PKT
    if meta.name == "bpf_dynptr_slice":
        r0.type |= _F.MEM_RDONLY
    elif not may_access_direct_pkt_data(env, Access.WRITE):
        raise env.error("the prog does not allow writes to packet data")
    r0.dynptr_id = did


# ---- iterators ------------------------------------------------------------------------------------------

def _process_iter_arg(env: Env, st: VerifierState, meta: KfuncMeta, regno: int, ref_t: object) -> None:
    """``process_iter_arg``: the iterator object on the stack -- new, advanced or destroyed."""
    from bpfbuild.btf.types import Struct

    reg = st.frames[-1].regs[regno]
    if reg.type != _T.PTR_TO_STACK:
        raise env.error(f"arg#{regno - 1} expected pointer to an iterator on stack")
    if not isinstance(ref_t, Struct) or not ref_t.name.startswith("bpf_iter_") or ref_t.size % 8 or not ref_t.size:
        raise env.error(f"expected valid iter pointer as arg #{regno - 1}")
    iter_type = ref_t.name.removeprefix("bpf_iter_")
    nr_slots = ref_t.size // 8
    frame = _stack_frame(st, reg)
    btf_id = ref_t.id
    live = env.stack_live
    assert live is not None
    uninit = f"expected uninitialized iter_{iter_type} as arg #{regno - 1}"
    init = f"expected an initialized iter_{iter_type} as arg #{regno - 1}"
    if meta.flags & KF.ITER_NEW:
        spi = _iter_spi(env, reg, nr_slots, frame, uninit)
        if spi >= 0:
            for k in range(nr_slots):
                if _ITER in frame.stack[spi - k].slot_type:
                    raise env.error(f"expected uninitialized iter_{iter_type} as arg #{regno - 1}")
        from bpfbuild.verifier.insns import grow_stack

        for k in range(nr_slots):
            check_mem_access(env, st, regno, k * 8, 8, Access.WRITE, -1)
            grow_stack(env, st, reg, reg.off + k * 8, 8)
            transfer.stack_write(env, st, frame, reg, reg.off + k * 8, 8, None, None)
        spi = _iter_spi(env, reg, nr_slots, frame, uninit)
        rid = env.new_id()
        st.refs.append(RefState(rid, env.insn_idx))
        for k in range(nr_slots):
            slot = frame.wslot(spi - k)
            sp = slot.spilled_ptr
            sp.mark_known_zero()
            sp.type = _T.PTR_TO_STACK
            if meta.flags & KF.RCU_PROTECTED:
                sp.type |= _F.MEM_RCU if _in_rcu_cs(env, st) else _F.PTR_UNTRUSTED
            sp.ref_obj_id = rid if k == 0 else 0
            sp.btf = meta.btf
            sp.btf_id = btf_id
            sp.iter_state = ITER_ACTIVE
            sp.iter_depth = 0
            for j in range(8):
                slot.slot_type[j] = _ITER
            live.mark_write(frame.frameno, 1 << (spi - k))
            env.scratched_slots.add(spi - k)
        return
    spi = _iter_spi(env, reg, nr_slots, frame, init)
    bad = spi < 0
    for k in range(nr_slots if not bad else 0):
        slot = frame.stack[spi - k]
        sp = slot.spilled_ptr
        if sp.type & _F.PTR_UNTRUSTED:
            raise env.error(f"expected an RCU CS when using {meta.name}")
        if (k == 0) != bool(sp.ref_obj_id) or sp.btf is not meta.btf or sp.btf_id != btf_id \
                or any(x != _ITER for x in slot.slot_type):
            bad = True
            break
    if bad:
        raise env.error(f"expected an initialized iter_{iter_type} as arg #{regno - 1}")
    live.mark_read(st, frame.frameno, env.insn_idx, ((1 << nr_slots) - 1) << (spi - nr_slots + 1))
    for k in range(nr_slots):   # mark_stack_slot_obj_read scratches them: the log prints the iterator
        env.scratched_slots.add(spi - k)
    meta.iter_frameno = reg.frameno
    meta.iter_spi = spi
    meta.ref_obj_id = frame.stack[spi].spilled_ptr.ref_obj_id
    meta.iter_rcu = bool(frame.stack[spi].spilled_ptr.type & _F.MEM_RCU)
    if meta.flags & KF.ITER_DESTROY:
        for k in range(nr_slots):
            if k == 0:
                transfer.release_reference(env, st, frame.stack[spi].spilled_ptr.ref_obj_id)
            slot = frame.wslot(spi - k)
            slot.spilled_ptr.mark_not_init()
            for j in range(8):
                slot.slot_type[j] = SlotType.STACK_INVALID
            live.mark_write(frame.frameno, 1 << (spi - k))
            env.scratched_slots.add(spi - k)


def _process_iter_next_call(env: Env, st: VerifierState, meta: KfuncMeta) -> None:
    """``process_iter_next_call``: an active iterator forks -- a queued path where it yields
    (r0 not NULL, one level deeper) and the current path where it is drained (r0 = 0)."""
    from bpfbuild.verifier.calls import _find_prev_entry

    cur_iter = st.frames[meta.iter_frameno].stack[meta.iter_spi].spilled_ptr
    pc = env.insn_idx
    if cur_iter.iter_state == ITER_ACTIVE:
        parent = st.parent
        if parent is None or parent.insn_idx != pc or not parent.same_callsites(st):
            raise env.error("verifier internal error: bad parent state for iter next call")
        prev = _find_prev_entry(env, parent, pc)
        assert env.fork is not None
        queued = env.fork(pc + 1, pc)
        q_iter = queued.frames[meta.iter_frameno].wslot(meta.iter_spi).spilled_ptr
        q_iter.iter_state = ITER_ACTIVE
        q_iter.iter_depth += 1
        if prev is not None:
            widen_imprecise_scalars(prev, queued)
        transfer.mark_ptr_not_null_reg(queued.frames[-1].regs[0])
    elif cur_iter.iter_state != ITER_DRAINED:
        raise env.error(f"verifier internal error: unexpected iterator state {cur_iter.iter_state}")
    st.frames[meta.iter_frameno].wslot(meta.iter_spi).spilled_ptr.iter_state = ITER_DRAINED
    r0 = st.frames[-1].regs[0]
    r0.mark_const(0)
