"""Special fields of map values (``struct btf_record``) and the rules that guard them.

The kernel parses a map's value type once, when the map is created (``btf_parse_fields``), and
keeps the offsets of the fields programs may not treat as plain memory: ``struct bpf_spin_lock``,
``struct bpf_res_spin_lock``, ``struct bpf_timer``, ``struct bpf_wq``, kptrs (pointer members
tagged ``kptr``, ``kptr_untrusted``, ``percpu_kptr``, ``uptr``), ``struct bpf_list_head``,
``struct bpf_rb_root`` and ``struct bpf_refcount``.  :func:`~bpfbuild.btf.record.parse_record`
(the one walk of special fields, shared with obj/compat.py) computes the same record from the
object's BTF; the verifier consults it where the kernel does:

* a map value access (``check_map_access``): no load/store may touch a field, kptrs only with
  8-byte aligned loads/stores at their offset (:func:`check_map_fields`, :func:`kptr_access`);
* ``bpf_spin_lock``/``bpf_spin_unlock`` (``process_spin_lock``), ``bpf_timer_*``
  (``process_timer_func``), ``bpf_kptr_xchg`` (``process_kptr_func``);
* a map referenced by a program of a type that may not use such fields
  (``check_map_prog_compatibility``);
* reads of ``struct bpf_map`` fields through a map pointer (``check_ptr_to_map_access``).

Names and messages are the kernel's (kernel/bpf/btf.c, kernel/bpf/verifier.c, Linux 6.18).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.btf.record import EMPTY, KPTRS, Field, FieldKind, Record, parse_record, parse_var_record
from bpfbuild.isa.fields import CLASS_MASK, MODE_MASK, InsnClass, Mode
from bpfbuild.verifier.state import MapInfo, Reg, RegFlag, RegType, VerifierState

if TYPE_CHECKING:
    from bpfbuild.isa.instruction import Instruction
    from bpfbuild.verifier.env import Env

__all__ = [
    "Field",
    "FieldKind",
    "LockState",
    "Record",
    "alloc_has_lock",
    "check_map_fields",
    "check_map_prog_compatibility",
    "check_ptr_to_map_access",
    "has_struct_meta",
    "keeps_id",
    "kptr_access",
    "kptr_load",
    "lock_state",
    "lock_exit_error",
    "parse_record",
    "parse_var_record",
    "process_kptr_xchg",
    "process_spin_lock",
    "process_timer",
]


def record_of(m: MapInfo | None) -> Record:
    rec = getattr(m, "record", None) if m is not None else None
    return rec if isinstance(rec, Record) else EMPTY


#: btf_parse_struct_metas: the structs that give a program struct a record, and its field mask
_ALLOC_OBJ_FIELDS = ("bpf_spin_lock", "bpf_list_head", "bpf_list_node", "bpf_rb_root", "bpf_rb_node", "bpf_refcount")
_META_KPTR_TAGS = ("kptr", "kptr_untrusted", "percpu_kptr")


def has_struct_meta(btf: object, type_id: int) -> bool:
    """``btf_find_struct_meta`` finds a record: a direct member is one of the special structs
    (by type id, as ``btf_id_set_contains`` compares) or a pointer to a kptr-tagged type."""
    from bpfbuild.btf.types import Kind, Pointer, Struct, TypeTag

    t = btf.type(type_id)  # type: ignore[attr-defined]
    if not isinstance(t, Struct):
        return False
    special = set()
    for name in _ALLOC_OBJ_FIELDS:
        ids = btf.find(name, Kind.STRUCT)  # type: ignore[attr-defined]
        if ids:
            special.add(ids[0])
    for m in t.members:
        if m.type in special:
            return True
        mt = btf.type(m.type)  # type: ignore[attr-defined]
        if isinstance(mt, Pointer) and mt.type:
            tag = btf.type(mt.type)  # type: ignore[attr-defined]
            if isinstance(tag, TypeTag) and tag.name in _META_KPTR_TAGS:
                return True
    return False


def alloc_has_lock(btf: object, type_id: int) -> bool:
    """``reg_may_point_to_spin_lock`` for an allocated object (no decl tags are needed)."""
    try:
        if not has_struct_meta(btf, type_id):
            return False
        rec = parse_record(btf, type_id, frozenset({FieldKind.SPIN_LOCK, FieldKind.RES_SPIN_LOCK}))
    except Exception:  # noqa: BLE001 - malformed BTF: no lock
        return False
    return rec.has(FieldKind.SPIN_LOCK, FieldKind.RES_SPIN_LOCK)   # (the record holds its kptrs too)


def keeps_id(reg: Reg) -> bool:
    """``reg_may_point_to_spin_lock``: a map value pointer whose id names its lock (kept after
    a NULL check so that lock and unlock can be matched)."""
    if reg.type & 0xFF == RegType.PTR_TO_BTF_ID and reg.type & RegFlag.MEM_ALLOC and reg.btf is not None:
        return alloc_has_lock(reg.btf, reg.btf_id)
    return (reg.type & 0xFF == RegType.PTR_TO_MAP_VALUE
            and record_of(reg.map).has(FieldKind.SPIN_LOCK, FieldKind.RES_SPIN_LOCK))


# ---- program type ------------------------------------------------------------------------------

_TRACING = frozenset({ProgType.KPROBE, ProgType.TRACEPOINT, ProgType.PERF_EVENT, ProgType.RAW_TRACEPOINT,
                      ProgType.RAW_TRACEPOINT_WRITABLE})


def check_map_prog_compatibility(env: Env, m: MapInfo, pc: int) -> None:
    """``check_map_prog_compatibility`` (when an instruction refers to the map): program types
    that cannot use the map's special fields."""
    rec = record_of(m)
    if not rec.fields:
        return
    pt = env.prog_type
    tracing = pt in _TRACING
    if rec.has(FieldKind.LIST_HEAD, FieldKind.RB_ROOT) and tracing:
        raise env.error("tracing progs cannot use bpf_{list_head,rb_root} yet", pc)
    if rec.has(FieldKind.SPIN_LOCK, FieldKind.RES_SPIN_LOCK):
        if pt == ProgType.SOCKET_FILTER:
            raise env.error("socket filter progs cannot use bpf_spin_lock yet", pc)
        if tracing:
            raise env.error("tracing progs cannot use bpf_spin_lock yet", pc)
    if rec.has(FieldKind.TIMER) and tracing:
        raise env.error("tracing progs cannot use bpf_timer yet", pc)
    if rec.has(FieldKind.WORKQUEUE) and tracing:
        raise env.error("tracing progs cannot use bpf_wq yet", pc)


# ---- map value accesses (check_map_access) ------------------------------------------------------

def check_map_fields(env: Env, regno: int, reg: Reg, off: int, size: int, helper: bool) -> Field | None:
    """The field part of ``check_map_access``: ``off`` includes ``reg.off``.  Returns the kptr
    a direct access hits exactly (``btf_record_find``), if any."""
    rec = record_of(reg.map)
    if not rec.fields:
        return None
    for f in rec.fields:
        p = f.offset
        if reg.smin + off < p + f.size and p < reg.umax + off + size:
            if f.kind in KPTRS:
                if helper:
                    raise env.error(f"{f.name} cannot be accessed indirectly by helper")
                if reg.var_off.mask:
                    raise env.error(f"{f.name} access cannot have variable offset")
                at = off + reg.var_off.value
                if p != at:
                    raise env.error(f"{f.name} access misaligned expected={p} off={at & (2**64 - 1)}")
                if size != 8:
                    raise env.error(f"{f.name} access size must be BPF_DW")
                continue
            raise env.error(f"{f.name} cannot be accessed directly by load/store")
    if reg.var_off.mask:
        return None
    return rec.find(off + reg.var_off.value, KPTRS)


def kptr_access(env: Env, field: Field, insn: Instruction | None, value: Reg | None, value_regno: int) -> bool:
    """``check_map_kptr_access`` for an instruction's load or store at a kptr field.  Returns
    True for a load: its PTR_TO_BTF_ID result is not modelled here (a note is recorded and the
    caller gives an unknown scalar)."""
    if insn is None:
        return False
    cls = insn.opcode & CLASS_MASK
    if insn.opcode & MODE_MASK != Mode.MEM:
        raise env.error("kptr in map can only be accessed using BPF_MEM instruction mode")
    if cls != InsnClass.LDX and field.kind in (FieldKind.KPTR_REF, FieldKind.KPTR_PERCPU):
        raise env.error("store to referenced kptr disallowed")
    if cls != InsnClass.LDX and field.kind is FieldKind.UPTR:
        raise env.error("store to uptr disallowed")
    if cls == InsnClass.LDX:
        return True
    if cls == InsnClass.STX:
        if value is not None and not value.is_null:
            env.not_modelled(f"insn {env.insn_idx}: a store of R{value_regno} into the kptr field at "
                             f"off={field.offset}")
        return False
    if cls == InsnClass.ST:
        if insn.imm:
            raise env.error(f"BPF_ST imm must be 0 when storing to kptr at off={field.offset}")
        return False
    raise env.error("kptr in map can only be accessed using BPF_LDX/BPF_STX/BPF_ST")


#: ``rcu_protected_types``: kernel structs whose referenced kptrs load as RCU pointers
_RCU_PROTECTED = frozenset({"prog_test_ref_kfunc", "cgroup", "bpf_cpumask", "task_struct", "bpf_crypto_ctx"})


def kptr_load(env: Env, st: VerifierState, field: Field) -> Reg | None:
    """The register a load of a kptr field gives (``mark_btf_ld_reg`` with ``btf_ld_kptr_type``):
    a maybe-NULL PTR_TO_BTF_ID of the pointee, RCU-protected inside an RCU section for the kinds
    the kernel frees after a grace period, untrusted otherwise.  None (an unknown scalar, with a
    note) for a kptr to one of the program's own structs."""
    from bpfbuild.btf.types import Kind
    from bpfbuild.verifier import btfid

    kb = env.kernel_btf
    ids = btfid.find(kb, field.pointee, Kind.STRUCT) if kb is not None and field.pointee else ()
    if not ids:
        return _local_kptr_load(env, st, field)
    rcu_safe = field.kind is FieldKind.KPTR_PERCPU or (field.kind is FieldKind.KPTR_REF
                                                        and field.pointee in _RCU_PROTECTED)
    flag = RegFlag.PTR_MAYBE_NULL
    if rcu_safe and (st.active_rcu_lock or st.active_locks or not env.sleepable):
        flag |= RegFlag.MEM_RCU | (RegFlag.MEM_PERCPU if field.kind is FieldKind.KPTR_PERCPU else 0)
    else:
        flag |= RegFlag.PTR_UNTRUSTED
    return btfid._btf_reg(env, kb, ids[0], RegType.PTR_TO_BTF_ID | flag)


_GRAPH_NODES = frozenset({FieldKind.LIST_NODE, FieldKind.RB_NODE})


def _local_kptr_load(env: Env, st: VerifierState, field: Field) -> Reg | None:
    """``btf_ld_kptr_type`` for a kptr to one of the program's own structs (``btf_parse_kptr``
    found no kernel struct of that name: a ``bpf_obj_new`` object, which ``rcu_protected_object``
    always is): inside an RCU section a referenced kptr gives an allocated, RCU-protected
    pointer, non-owning where the struct is a list or rbtree node; outside one (a sleepable
    program) an untrusted one."""
    from bpfbuild.btf.types import Kind
    from bpfbuild.verifier import btfid

    pb = env.prog_btf
    ids = btfid.find(pb, field.pointee, Kind.STRUCT) if pb is not None and field.pointee else ()
    if not ids:
        env.not_modelled(f"insn {env.insn_idx}: a load of the {field.name} field at off={field.offset} "
                         f"(a kptr to struct {field.pointee}, in no BTF)")
        return None
    rec = parse_record(pb, ids[0], _GRAPH_NODES) if has_struct_meta(pb, ids[0]) else None   # kptr_pointee_btf_record
    rcu_safe = field.kind in (FieldKind.KPTR_PERCPU, FieldKind.KPTR_REF)
    flag = RegFlag.PTR_MAYBE_NULL
    if rcu_safe and (st.active_rcu_lock or st.active_locks or not env.sleepable):
        flag |= RegFlag.MEM_RCU | (RegFlag.MEM_PERCPU if field.kind is FieldKind.KPTR_PERCPU else RegFlag.MEM_ALLOC)
        if rec is not None and rec.has(FieldKind.LIST_NODE, FieldKind.RB_NODE):
            flag |= RegFlag.NON_OWN_REF
    else:
        flag |= RegFlag.PTR_UNTRUSTED
    return btfid._btf_reg(env, pb, ids[0], RegType.PTR_TO_BTF_ID | flag)


# ---- helpers ------------------------------------------------------------------------------------

#: ``LockState.kind``: REF_TYPE_LOCK (a bpf_spin_lock), REF_TYPE_RES_LOCK (a bpf_res_spin_lock),
#: REF_TYPE_RES_LOCK_IRQ (one taken by bpf_res_spin_lock_irqsave)
LOCK, RES_LOCK, RES_LOCK_IRQ = 0, 1, 2


@dataclass(frozen=True, slots=True)
class LockState:
    """A held ``bpf_spin_lock`` or ``bpf_res_spin_lock`` (a REF_TYPE_LOCK / REF_TYPE_RES_LOCK
    reference state): the map value's (or object's) id and map."""

    id: int
    map_index: int
    insn_idx: int
    kind: int = LOCK


def _const_off(env: Env, reg: Reg, regno: int, what: str) -> int:
    if reg.var_off.mask:
        raise env.error(f"R{regno} doesn't have constant offset. {what} has to be at the constant offset")
    return reg.var_off.value + reg.off


def process_spin_lock(env: Env, st: VerifierState, regno: int, is_lock: bool) -> None:
    """``process_spin_lock`` for ``bpf_spin_lock`` (``is_lock``) and ``bpf_spin_unlock``."""
    reg = st.frames[-1].regs[regno]
    m = reg.map
    if reg.type != RegType.PTR_TO_MAP_VALUE or m is None:
        env.not_modelled(f"insn {env.insn_idx}: a bpf_spin_lock in an allocated object")
        return
    off = _const_off(env, reg, regno, "bpf_spin_lock")
    if not m.has_btf:
        raise env.error(f"map '{m.name}' has to have BTF in order to use bpf_spin_lock")
    rec = record_of(m)
    if not rec.has(FieldKind.SPIN_LOCK):
        raise env.error(f"map '{m.name}' has no valid bpf_spin_lock")
    lock_off = rec.offset_of(FieldKind.SPIN_LOCK)
    if lock_off != off:
        raise env.error(f"off {off} doesn't point to 'struct bpf_spin_lock' that is at {lock_off}")
    lock_state(env, st, reg.id, m.index, is_lock)


def lock_state(env: Env, st: VerifierState, lock_id: int, ptr: int, is_lock: bool, kind: int = LOCK) -> None:
    """``process_spin_lock``'s ``acquire_lock_state``/``release_lock_state`` for the lock of
    (``lock_id``, ``ptr``): ``ptr`` is the map's index, or graph.ALLOC_LOCK for an allocated
    object's.  Resilient locks (``kind`` RES_LOCK) nest, but not twice the same one; any lock is
    released last taken, first released."""
    locks = st.locks
    what = "bpf_spin" if kind == LOCK else "bpf_res_spin"
    if is_lock:
        if kind == LOCK and locks:
            raise env.error("Locking two bpf_spin_locks are not allowed")
        if kind != LOCK and any(lk.kind != LOCK and lk.id == lock_id and lk.map_index == ptr
                                for lk in locks):
            raise env.error("Acquiring the same lock again, AA deadlock detected")
        st.locks = (*locks, LockState(lock_id, ptr, env.insn_idx, kind))
        st.active_locks = len(st.locks)
        return
    if not locks:
        raise env.error(f"{what}_unlock without taking a lock")
    i = next((i for i, lk in enumerate(locks) if lk.kind == kind and lk.id == lock_id and lk.map_index == ptr), -1)
    if i < 0:
        raise env.error(f"{what}_unlock of different lock")
    if locks[-1].id != lock_id or locks[-1].map_index != ptr:    # active_lock_id / active_lock_ptr
        raise env.error(f"{what}_unlock cannot be out of order")
    st.locks = locks[:i] + locks[i + 1:]
    st.active_locks = len(st.locks)


def lock_exit_error(env: Env, st: VerifierState, prefix: str) -> None:
    """The lock part of ``check_resource_leak``: no lock may be held past ``prefix``."""
    if st.active_locks:
        raise env.error(f"{prefix} cannot be used inside bpf_spin_lock-ed region")


def process_timer(env: Env, st: VerifierState, regno: int) -> MapInfo | None:
    """``process_timer_func``: the argument points at the bpf_timer of its map value; returns
    the map (``meta->map_ptr``)."""
    reg = st.frames[-1].regs[regno]
    m = reg.map
    if m is None:
        return None
    off = _const_off(env, reg, regno, "bpf_timer")
    if not m.has_btf:
        raise env.error(f"map '{m.name}' has to have BTF in order to use bpf_timer")
    rec = record_of(m)
    if not rec.has(FieldKind.TIMER):
        raise env.error(f"map '{m.name}' has no valid bpf_timer")
    timer_off = rec.offset_of(FieldKind.TIMER)
    if timer_off != off:
        raise env.error(f"off {off} doesn't point to 'struct bpf_timer' that is at {timer_off}")
    return m


def process_kptr_xchg(env: Env, st: VerifierState, regno: int,
                      alloc_rec: Record | None = None) -> tuple[Field, object, int] | None:
    """``process_kptr_func``: the destination of ``bpf_kptr_xchg`` is a referenced kptr field of a
    map value or of an allocated object (``alloc_rec``: its record, graph.reg_btf_record).
    Returns (field, BTF, id of its pointee); None (with a note) for a per-CPU kptr or one whose
    struct is in no BTF."""
    reg = st.frames[-1].regs[regno]
    m = reg.map
    if reg.type == RegType.PTR_TO_BTF_ID | RegFlag.MEM_ALLOC:
        rec = alloc_rec or EMPTY   # a kptr in an object of the program's struct
    elif m is None:
        env.not_modelled(f"insn {env.insn_idx}: bpf_kptr_xchg into an allocated object")
        return None
    elif not m.has_btf:
        raise env.error(f"map '{m.name}' has to have BTF in order to use bpf_kptr_xchg")
    else:
        rec = record_of(m)
    if reg.var_off.mask:
        raise env.error(f"R{regno} doesn't have constant offset. kptr has to be at the constant offset")
    if not rec.has(FieldKind.KPTR_UNREF, FieldKind.KPTR_REF, FieldKind.KPTR_PERCPU):
        raise env.error(f"R{regno} has no valid kptr")
    off = reg.off + reg.var_off.value
    f = rec.find(off, frozenset({FieldKind.KPTR_UNREF, FieldKind.KPTR_REF, FieldKind.KPTR_PERCPU}))
    if f is None:
        raise env.error(f"off={off} doesn't point to kptr")
    if f.kind not in (FieldKind.KPTR_REF, FieldKind.KPTR_PERCPU):
        raise env.error(f"off={off} kptr isn't referenced kptr")
    from bpfbuild.btf.types import Kind
    from bpfbuild.verifier import btfid

    kb = env.kernel_btf
    ids = btfid.find(kb, f.pointee, Kind.STRUCT) if kb is not None and f.pointee else ()
    pb = env.prog_btf
    local = btfid.find(pb, f.pointee, Kind.STRUCT) if kb is not None and pb is not None and f.pointee else ()
    if not ids and f.kind in (FieldKind.KPTR_REF, FieldKind.KPTR_PERCPU) and len(local) == 1:
        # btf_parse_kptr: a struct only the program's BTF has is an object from bpf_obj_new
        # (bpf_percpu_obj_new for a per-CPU kptr)
        return f, pb, local[0]
    if not ids or f.kind is not FieldKind.KPTR_REF:
        env.not_modelled(f"insn {env.insn_idx}: bpf_kptr_xchg of a struct {f.pointee} kptr (the program's "
                         "own struct or per-CPU)")
        return None
    return f, kb, ids[0]


# ---- struct bpf_map through a map pointer (check_ptr_to_map_access) ------------------------------

_T = MapType
#: the struct each map type's ops name as map_btf_id (the kernel's struct embedding struct bpf_map)
_MAP_STRUCT = {
    _T.ARRAY: "bpf_array", _T.PERCPU_ARRAY: "bpf_array", _T.PROG_ARRAY: "bpf_array",
    _T.PERF_EVENT_ARRAY: "bpf_array", _T.CGROUP_ARRAY: "bpf_array", _T.ARRAY_OF_MAPS: "bpf_array",
    _T.HASH: "bpf_htab", _T.PERCPU_HASH: "bpf_htab", _T.LRU_HASH: "bpf_htab", _T.LRU_PERCPU_HASH: "bpf_htab",
    _T.HASH_OF_MAPS: "bpf_htab", _T.RINGBUF: "bpf_ringbuf_map", _T.USER_RINGBUF: "bpf_ringbuf_map",
    _T.STACK_TRACE: "bpf_stack_map", _T.LPM_TRIE: "lpm_trie", _T.QUEUE: "bpf_queue_stack",
    _T.STACK: "bpf_queue_stack", _T.DEVMAP: "bpf_dtab", _T.DEVMAP_HASH: "bpf_dtab", _T.CPUMAP: "bpf_cpu_map",
    _T.XSKMAP: "xsk_map", _T.SOCKMAP: "bpf_stab", _T.SOCKHASH: "bpf_shtab",
    _T.REUSEPORT_SOCKARRAY: "reuseport_array", _T.SK_STORAGE: "bpf_local_storage_map",
    _T.INODE_STORAGE: "bpf_local_storage_map", _T.TASK_STORAGE: "bpf_local_storage_map",
    _T.CGRP_STORAGE: "bpf_local_storage_map", _T.CGROUP_STORAGE: "bpf_cgroup_storage_map",
    _T.PERCPU_CGROUP_STORAGE: "bpf_cgroup_storage_map", _T.BLOOM_FILTER: "bpf_bloom_filter",
    _T.STRUCT_OPS: "bpf_struct_ops_map",
}


def check_ptr_to_map_access(env: Env, reg: Reg, regno: int, off: int, size: int, write: bool) -> bool:
    """``check_ptr_to_map_access``: a load through a map pointer reads the kernel's struct for
    the map type (``off`` includes ``reg.off``).  Returns True when the loaded value is a
    scalar; False when the walk is not modelled (a note is recorded)."""
    m = reg.map
    try:
        name = _MAP_STRUCT.get(MapType(m.map_type)) if m is not None else None
    except ValueError:
        name = None
    if name is None:
        env.not_modelled(f"insn {env.insn_idx}: a read through a map pointer of map type "
                         f"{m.map_type if m is not None else '?'}")
        return False
    if not env.allow_ptr_leaks:
        raise env.error(f"'struct {name}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN")
    if off < 0:
        raise env.error(f"R{regno} is {name} invalid negative access: off={off}")
    if write:
        raise env.error(f"only read from {name} is supported")
    btf = env.kernel_btf
    if btf is None:
        env.not_modelled(f"insn {env.insn_idx}: struct {name} (the target kernel has no BTF)")
        return False
    from bpfbuild.btf.types import Struct

    try:
        ids = btf.find(name, Struct)
        if not ids:
            env.not_modelled(f"insn {env.insn_idx}: struct {name} (not in the target kernel's BTF)")
            return False
        what = _scalar_at(btf, ids[0], off, size)
    except Exception:  # noqa: BLE001 - an unreadable kernel BTF: say so, never guess
        what = "unreadable"
    if what == "scalar":
        return True
    env.not_modelled(f"insn {env.insn_idx}: the {size}-byte read at off={off} of struct {name} ({what})")
    return False


def _scalar_at(btf: object, type_id: int, off: int, size: int) -> str:
    """"scalar" when ``[off, off + size)`` lies inside one integer/enum member of the type
    (``btf_struct_walk`` giving SCALAR_VALUE); otherwise what was found there."""
    from bpfbuild.btf.types import Array, Enum, Enum64, Int, Pointer, Struct, Union

    for _ in range(64):
        t = btf.resolve(type_id)
        if isinstance(t, (Int, Enum, Enum64)):
            return "scalar" if off >= 0 and off + size <= t.size else "a read across members"
        if isinstance(t, Pointer):
            return "a pointer member"
        if isinstance(t, Array):
            esize = btf.size_of(t.type)
            if esize <= 0 or off + size > esize * t.nelems:
                return "a read past an array"
            off %= esize
            type_id = t.type
            continue
        if isinstance(t, (Struct, Union)):
            if off + size > t.size:
                return "a read past the struct"
            for m in t.members:
                if m.bitfield_size:
                    continue
                msize = btf.size_of(m.type)
                mo = m.byte_offset
                if mo <= off < mo + msize:
                    if off + size > mo + msize:
                        return "a read across members"
                    off -= mo
                    type_id = m.type
                    break
            else:
                return "padding"
            continue
        return f"a {type(t).__name__.lower()} member"
    return "a deep type"

