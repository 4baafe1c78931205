"""BPF graph data structures: linked lists, red-black trees and refcounted objects (Linux 6.18).

A map value or an allocated object (``bpf_obj_new``) may hold a ``struct bpf_list_head`` or
``struct bpf_rb_root`` whose BTF decl tag ``contains:<struct>:<node field>`` names the type of
the nodes it holds (:func:`bpfbuild.verifier.fields.parse_record` reads it into the field's
``value_type``/``node_offset``).  The kernel's rules, as kernel/bpf/verifier.c states them:

* an allocated object's special fields are ``btf_find_struct_meta``'s record
  (:func:`alloc_record`): a struct with a ``bpf_spin_lock``, ``bpf_list_head``/``node``,
  ``bpf_rb_root``/``node``, ``bpf_refcount`` or kptr as a direct member;
* the head/root argument of every list and rbtree kfunc is a map value or an owned allocated
  object at the field's constant offset, and the ``bpf_spin_lock`` of the same allocation
  (same map value id and map, or same object id) must be held (``check_reg_allocation_locked``);
* a node argument is an owning reference (``bpf_list_push_*``, ``bpf_rbtree_add``) or a
  non-owning/refcounted one (``bpf_rbtree_remove``/``left``/``right``) to the contained struct,
  at its node offset;
* pushing/adding turns every copy of the owning reference into a non-owning one
  (``NON_OWN_REF``, and ``MEM_RCU`` where the struct has a ``bpf_refcount``), which
  ``bpf_spin_unlock`` invalidates; pops/removes give a new owning reference (maybe NULL) to the
  node's struct with the node's offset, peeks (``front``/``back``/``first``/``root``/``left``/
  ``right``) a non-owning one;
* ``bpf_rbtree_add``'s ``less`` callback is verified with two non-owning nodes, the lock held,
  and may not lock, unlock, touch RCU sections or call the other rbtree kfuncs that take nodes;
* ``bpf_refcount_acquire`` of an object with a ``bpf_refcount`` gives a new owning reference
  (maybe NULL when the argument was non-owning).

Anything here the kernel would have refused earlier (a map whose ``contains:`` tag it rejects)
is recorded with ``env.not_modelled``, never guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpfbuild.btf.record import walk_fields
from bpfbuild.btf.types import Kind, Struct
from bpfbuild.verifier.fields import (
    Field,
    FieldKind,
    Record,
    alloc_has_lock,
    has_struct_meta,
    lock_state,
    parse_record,
    record_of,
)
from bpfbuild.verifier.fields import process_spin_lock as map_spin_lock
from bpfbuild.verifier.state import BASE_MASK, Reg, RegFlag, RegType, VerifierState
from bpfbuild.verifier.transfer import mark_reg_invalid

if TYPE_CHECKING:
    from bpfbuild.verifier.env import Env

__all__ = [
    "ALLOC_LOCK",
    "GRAPH_ARG_KINDS",
    "alloc_record",
    "check_lock_call",
    "convert_owning_non_owning",
    "in_rbtree_lock_required_cb",
    "invalidate_non_owning_refs",
    "is_callback_kfunc",
    "process_graph_arg",
    "prog_btf_refused",
    "process_spin_lock",
    "reg_btf_record",
    "set_graph_return",
    "set_rbtree_add_callback_state",
]

_T = RegType
_F = RegFlag

LIST_API = frozenset({"bpf_list_push_front_impl", "bpf_list_push_back_impl", "bpf_list_pop_front",
                      "bpf_list_pop_back", "bpf_list_front", "bpf_list_back"})
RBTREE_API = frozenset({"bpf_rbtree_add_impl", "bpf_rbtree_remove", "bpf_rbtree_first", "bpf_rbtree_root",
                        "bpf_rbtree_left", "bpf_rbtree_right"})
GRAPH_API = LIST_API | RBTREE_API | {"bpf_refcount_acquire_impl"}
#: graph kfuncs whose pointer arguments the running kernel NULL-checks like trusted ones
#: (observed: bpf_rbtree_add_impl with a maybe-NULL node, "Possibly NULL pointer passed to
#: trusted arg1"; the others that take a node are assumed alike)
NULL_CHECKED = frozenset({"bpf_rbtree_add_impl", "bpf_list_push_front_impl", "bpf_list_push_back_impl",
                          "bpf_rbtree_remove", "bpf_rbtree_left", "bpf_rbtree_right"})
#: kfunc_spin_allowed: the kfuncs a program may call while holding a bpf_spin_lock
_SPIN_ALLOWED = GRAPH_API | {"bpf_iter_num_new", "bpf_iter_num_next", "bpf_iter_num_destroy", "bpf_res_spin_lock",
                             "bpf_res_spin_unlock", "bpf_res_spin_lock_irqsave", "bpf_res_spin_unlock_irqrestore"}
#: the kfunc argument kinds of the graph structs (get_kfunc_ptr_arg_type)
GRAPH_ARG_KINDS = {"bpf_list_head": "list_head", "bpf_list_node": "list_node", "bpf_rb_root": "rb_root",
                   "bpf_rb_node": "rb_node"}
_NODE_KFUNCS = {
    FieldKind.LIST_NODE: frozenset({"bpf_list_push_front_impl", "bpf_list_push_back_impl"}),
    FieldKind.RB_NODE: frozenset({"bpf_rbtree_remove", "bpf_rbtree_add_impl", "bpf_rbtree_left", "bpf_rbtree_right"}),
}
#: ``LockState.map_index`` of a lock in an allocated object (the kernel's lock ptr is the BTF)
ALLOC_LOCK = -2
#: btf_parse_struct_metas' field mask
_GRAPH_STRUCTS = ("bpf_list_head", "bpf_list_node", "bpf_rb_root", "bpf_rb_node")
_GRAPH_STRUCT_NAMES = frozenset(_GRAPH_STRUCTS)
_ALLOC_KINDS = frozenset({FieldKind.SPIN_LOCK, FieldKind.RES_SPIN_LOCK, FieldKind.LIST_HEAD, FieldKind.LIST_NODE,
                          FieldKind.RB_ROOT, FieldKind.RB_NODE, FieldKind.REFCOUNT, FieldKind.KPTR_UNREF,
                          FieldKind.KPTR_REF, FieldKind.KPTR_PERCPU})


class GraphNotModelled(Exception):
    """Something about a graph argument this verifier does not model (the verdict is unknown)."""


# ---- records ----------------------------------------------------------------------------------

def _nodes_lack_refcount(kinds: set[FieldKind]) -> bool:
    """``btf_parse_fields``: a struct that can be both a list node and an rbtree node needs a
    ``bpf_refcount`` (else its record, and the program's BTF, is refused)."""
    return {FieldKind.LIST_NODE, FieldKind.RB_NODE} <= kinds and FieldKind.REFCOUNT not in kinds


def alloc_record(env: Env, btf: object, type_id: int) -> Record | None:
    """The record of an allocated object of the program's struct ``type_id`` (None: none)."""
    cache = env.graph_cache
    key = (id(btf), type_id)
    if key not in cache:
        rec = None
        try:
            if has_struct_meta(btf, type_id):
                rec = parse_record(btf, type_id, _ALLOC_KINDS)
                if not rec.fields or _nodes_lack_refcount({f.kind for f in rec.fields}):
                    # btf_parse_struct_metas fails: the kernel refuses the program's BTF
                    env.not_modelled(f"the special fields of struct {_type_name(btf, type_id)} (a BTF the "
                                     "kernel refuses)")
                    rec = None
        except Exception:  # noqa: BLE001 - malformed BTF: no record
            rec = None
        cache[key] = (btf, rec)     # keep the BTF alive: its id() stays unique
    return cache[key][1]


def prog_btf_refused(btf: object) -> str:
    """Why the kernel refuses the program's BTF (``btf_parse_struct_metas``: a struct with a
    graph field whose record cannot be parsed), "" if it does not.  libbpf then loads the
    program without BTF: what follows is not modelled."""
    try:
        if not btf.names_any(_GRAPH_STRUCT_NAMES) \
                or not any(btf.find(n, Kind.STRUCT) for n in _GRAPH_STRUCTS):  # type: ignore[attr-defined]
            return ""
        for t in btf.types():  # type: ignore[attr-defined]
            if not isinstance(t, Struct) or not has_struct_meta(btf, t.id):
                continue
            out = walk_fields(btf, t.id, _ALLOC_KINDS)
            kinds = {f.kind for f in out}
            if (any(f.value_type < 0 for f in out)
                    or (kinds & {FieldKind.LIST_HEAD, FieldKind.RB_ROOT}
                        and not kinds & {FieldKind.SPIN_LOCK, FieldKind.RES_SPIN_LOCK})
                    or _nodes_lack_refcount(kinds)):
                return (f"the program's BTF, which the kernel refuses (struct {t.name}: a graph field it "
                        "cannot parse, e.g. a contains: tag naming a struct the BTF lacks)")
    except Exception:  # noqa: BLE001 - unreadable BTF is the loader's business
        return ""
    return ""


def _is_alloc(reg: Reg) -> bool:
    """``type_is_ptr_alloc_obj``."""
    return reg.type & BASE_MASK == _T.PTR_TO_BTF_ID and bool(reg.type & _F.MEM_ALLOC)


def reg_btf_record(env: Env, reg: Reg) -> Record | None:
    if reg.type == _T.PTR_TO_MAP_VALUE:
        return record_of(reg.map)
    if _is_alloc(reg) and reg.btf is not None:
        return alloc_record(env, reg.btf, reg.btf_id)
    return None


def _type_name(btf: object, type_id: int) -> str:
    try:
        return getattr(btf.type(type_id), "name", "") or ""  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return ""


# ---- locks --------------------------------------------------------------------------------------

def lock_ptr(reg: Reg) -> int | None:
    """The lock's ``ptr`` as :class:`LockState` keeps it: the map's index, or ALLOC_LOCK."""
    if reg.type == _T.PTR_TO_MAP_VALUE and reg.map is not None:
        return reg.map.index
    if reg.type == _T.PTR_TO_BTF_ID | _F.MEM_ALLOC:
        return ALLOC_LOCK
    return None


def _allocation_locked(st: VerifierState, reg: Reg) -> bool:
    """``check_reg_allocation_locked``: a held lock of the same map value or object."""
    ptr = lock_ptr(reg)
    return bool(st.active_locks) and any(lk.id == reg.id and lk.map_index == ptr for lk in st.locks)


def in_rbtree_lock_required_cb(env: Env, st: VerifierState) -> bool:
    """Verifying the ``less`` callback of ``bpf_rbtree_add`` (the top frame only)."""
    if not st.curframe:
        return False
    callee = st.frames[-1]
    if not callee.in_callback_fn:
        return False
    insn = env.insns[callee.callsite]
    return (insn is not None and insn.src == 2 and insn.off == 0
            and env.kfunc_log_name(insn) in RBTREE_API)


def check_lock_call(env: Env, st: VerifierState, name: str | None) -> None:
    """The kfunc part of do_check's rule: only ``kfunc_spin_allowed`` kfuncs while a lock is held."""
    if name is None:
        env.not_modelled(f"insn {env.insn_idx}: a kfunc call (name unknown) while holding a bpf_spin_lock")
    elif name not in _SPIN_ALLOWED:
        raise env.error("function calls are not allowed while holding a lock")


def is_callback_kfunc(name: str | None) -> bool:
    """``is_sync_callback_calling_kfunc``."""
    return name == "bpf_rbtree_add_impl"


def invalidate_non_owning_refs(env: Env, st: VerifierState) -> None:
    """At ``bpf_spin_unlock``: every non-owning reference becomes an unknown scalar."""
    for reg in st.all_regs():
        if reg.type & BASE_MASK == _T.PTR_TO_BTF_ID and reg.type & _F.NON_OWN_REF:
            mark_reg_invalid(env, reg)


def process_spin_lock(env: Env, st: VerifierState, regno: int, is_lock: bool) -> None:
    """``process_spin_lock`` (the ARG_PTR_TO_SPIN_LOCK case of ``check_func_arg``): not in an
    rbtree callback; a map value's lock (:func:`fields.process_spin_lock`) or an allocated
    object's; unlocking invalidates the non-owning references."""
    if in_rbtree_lock_required_cb(env, st):
        raise env.error("can't spin_{lock,unlock} in rbtree cb")
    reg = st.frames[-1].regs[regno]
    if reg.type == _T.PTR_TO_MAP_VALUE and reg.map is not None:
        map_spin_lock(env, st, regno, is_lock)
        if not is_lock:
            invalidate_non_owning_refs(env, st)
        return
    process_alloc_lock(env, st, reg, regno, is_lock)


def process_alloc_lock(env: Env, st: VerifierState, reg: Reg, regno: int, is_lock: bool) -> None:
    """``process_spin_lock`` for a bpf_spin_lock inside an allocated object."""
    if reg.var_off.mask:
        raise env.error(f"R{regno} doesn't have constant offset. bpf_spin_lock has to be at the constant offset")
    rec = reg_btf_record(env, reg)
    if rec is None or not rec.has(FieldKind.SPIN_LOCK):
        raise env.error("local 'kptr' has no valid bpf_spin_lock")
    lock_off = rec.offset_of(FieldKind.SPIN_LOCK)
    off = reg.var_off.value + reg.off
    if lock_off != off:
        raise env.error(f"off {off} doesn't point to 'struct bpf_spin_lock' that is at {lock_off}")
    lock_state(env, st, reg.id, ALLOC_LOCK, is_lock)
    if not is_lock:
        invalidate_non_owning_refs(env, st)


# ---- owning and non-owning references -----------------------------------------------------------

def _set_non_owning(env: Env, st: VerifierState, reg: Reg) -> None:
    """``ref_set_non_owning``."""
    if not st.active_locks:
        raise GraphNotModelled("a non-owning reference outside a bpf_spin_lock section (a verifier bug)")
    reg.type |= _F.NON_OWN_REF
    rec = reg_btf_record(env, reg)
    if rec is not None and rec.has(FieldKind.REFCOUNT):
        reg.type |= _F.MEM_RCU


def convert_owning_non_owning(env: Env, st: VerifierState, ref_obj_id: int) -> None:
    """``ref_convert_owning_non_owning``: copies of the pushed object stay usable under the lock."""
    if not ref_obj_id or not any(r.id == ref_obj_id for r in st.refs):
        raise GraphNotModelled("an owning reference without its reference state (a verifier bug)")
    for reg in st.all_regs():
        if reg.ref_obj_id == ref_obj_id:
            reg.ref_obj_id = 0
            _set_non_owning(env, st, reg)


def _mark_graph_node(reg: Reg, btf: object, field: Field) -> None:
    """``mark_reg_graph_node``: an owned object of the root's value type, at its node."""
    reg.mark_known_zero()
    reg.type = _T.PTR_TO_BTF_ID | _F.MEM_ALLOC
    reg.btf = btf
    reg.btf_id = field.value_type
    reg.off = field.node_offset


# ---- kfunc arguments ----------------------------------------------------------------------------

def _field_name(kind: FieldKind) -> str:
    return kind.value


def process_graph_arg(env: Env, st: VerifierState, meta: object, kind: str, reg: Reg, regno: int, i: int) -> None:
    """The ``KF_ARG_PTR_TO_{LIST_HEAD,LIST_NODE,RB_ROOT,RB_NODE,REFCOUNTED_KPTR,CALLBACK}`` cases
    of ``check_kfunc_args``; ``meta`` is kfuncs.KfuncMeta."""
    name = meta.name  # type: ignore[attr-defined]
    alloc = _T.PTR_TO_BTF_ID | _F.MEM_ALLOC
    if kind in ("list_head", "rb_root"):
        if reg.type not in (_T.PTR_TO_MAP_VALUE, alloc):
            raise env.error(f"arg#{i} expected pointer to map value or allocated object")
        if reg.type == alloc and not reg.ref_obj_id:
            raise env.error("allocated object must be referenced")
        _graph_root_arg(env, st, meta, reg, regno,
                        FieldKind.LIST_HEAD if kind == "list_head" else FieldKind.RB_ROOT)
    elif kind == "list_node":
        if reg.type != alloc:
            raise env.error(f"arg#{i} expected pointer to allocated object")
        if not reg.ref_obj_id:
            raise env.error("allocated object must be referenced")
        _graph_node_arg(env, meta, reg, regno, FieldKind.LIST_HEAD, FieldKind.LIST_NODE)
    elif kind == "rb_node":
        if name == "bpf_rbtree_add_impl":
            if reg.type != alloc:
                raise env.error(f"arg#{i} expected pointer to allocated object")
            if not reg.ref_obj_id:
                raise env.error("allocated object must be referenced")
        else:
            if not reg.type & _F.NON_OWN_REF and not reg.ref_obj_id:
                raise env.error(f"{name} can only take non-owning or refcounted bpf_rb_node pointer")
            if in_rbtree_lock_required_cb(env, st):
                raise env.error(f"{name} not allowed in rbtree cb")
        _graph_node_arg(env, meta, reg, regno, FieldKind.RB_ROOT, FieldKind.RB_NODE)
    elif kind == "refcounted_kptr":
        if not _is_alloc(reg):
            raise env.error(f"arg#{i} is neither owning or non-owning ref")
        if not reg.type & _F.NON_OWN_REF:
            meta.arg_owning_ref = True  # type: ignore[attr-defined]
        rec = reg_btf_record(env, reg)
        if rec is None:
            raise GraphNotModelled(f"argument {i} of {name}: an allocated object without a record")
        if not rec.has(FieldKind.REFCOUNT):
            raise env.error(f"arg#{i} doesn't point to a type with bpf_refcount field")
        meta.arg_btf = reg.btf  # type: ignore[attr-defined]
        meta.arg_btf_id = reg.btf_id  # type: ignore[attr-defined]
    elif kind == "callback":
        if reg.type != _T.PTR_TO_FUNC:
            raise env.error(f"arg{i} expected pointer to func")
        meta.subprogno = reg.subprogno  # type: ignore[attr-defined]
    else:
        raise GraphNotModelled(f"argument {i} of {name} ({kind})")


def _graph_root_arg(env: Env, st: VerifierState, meta: object, reg: Reg, regno: int, head: FieldKind) -> None:
    """``__process_kf_arg_ptr_to_graph_root``."""
    name = meta.name  # type: ignore[attr-defined]
    api = LIST_API if head is FieldKind.LIST_HEAD else RBTREE_API
    if name not in api:
        raise GraphNotModelled(f"{name} with a {head.value} argument")
    what = _field_name(head)
    if reg.var_off.mask:
        raise env.error(f"R{regno} doesn't have constant offset. {what} has to be at the constant offset")
    rec = reg_btf_record(env, reg)
    off = (reg.off + reg.var_off.value) & 0xFFFFFFFF
    field = rec.find(off, frozenset({head})) if rec is not None else None
    if field is None:
        raise env.error(f"{what} not found at offset={off}")
    if field.value_type <= 0:
        raise GraphNotModelled(f"the {what} at offset={off} (a contains: tag the kernel refuses)")
    if not _allocation_locked(st, reg):
        if st.active_locks:
            env.verbose("held lock and object are not in the same allocation\n")
        lock_off = rec.offset_of(FieldKind.SPIN_LOCK) if rec is not None else -22
        raise env.error(f"bpf_spin_lock at off={lock_off} must be held for {what}")
    meta.graph_field = field  # type: ignore[attr-defined]
    meta.graph_btf = reg.btf if reg.type != _T.PTR_TO_MAP_VALUE else env.prog_btf  # type: ignore[attr-defined]


def _graph_node_arg(env: Env, meta: object, reg: Reg, regno: int, head: FieldKind, node: FieldKind) -> None:
    """``__process_kf_arg_ptr_to_graph_node``."""
    name = meta.name  # type: ignore[attr-defined]
    if name not in _NODE_KFUNCS[node]:
        raise GraphNotModelled(f"{name} with a {node.value} argument")
    what = _field_name(node)
    if reg.var_off.mask:
        raise env.error(f"R{regno} doesn't have constant offset. {what} has to be at the constant offset")
    node_off = (reg.off + reg.var_off.value) & 0xFFFFFFFF
    rec = reg_btf_record(env, reg)
    if rec is None or rec.find(node_off, frozenset({node})) is None:
        raise env.error(f"{what} not found at offset={node_off}")
    field: Field | None = meta.graph_field  # type: ignore[attr-defined]
    gbtf = meta.graph_btf  # type: ignore[attr-defined]
    if field is None or gbtf is None:
        raise GraphNotModelled(f"the node argument of {name} without its root")
    value_name = _type_name(gbtf, field.value_type)
    if reg.btf is not gbtf or reg.btf_id != field.value_type:
        raise env.error(f"operation on {_field_name(head)} expects arg#1 {what} at offset={field.node_offset} "
                        f"in struct {value_name}, but arg is at offset={node_off} in struct "
                        f"{_type_name(reg.btf, reg.btf_id)}")
    meta.arg_btf = reg.btf  # type: ignore[attr-defined]
    meta.arg_btf_id = reg.btf_id  # type: ignore[attr-defined]
    if node_off != field.node_offset:
        raise env.error(f"arg#1 offset={node_off}, but expected {what} at offset={field.node_offset} "
                        f"in struct {value_name}")


# ---- effects and the return value ---------------------------------------------------------------

#: the kfuncs whose call remembers its object's struct (``insn_aux->kptr_struct_meta``)
_STRUCT_META_KFUNCS = frozenset({"bpf_obj_drop_impl", "bpf_percpu_obj_drop_impl", "bpf_refcount_acquire_impl"})


def _one_type_per_call(env: Env, btf: object, btf_id: int, name: str) -> None:
    """One call instruction of these kfuncs given objects of two structs (a static function
    holding the call, inlined or not): Linux 6.18.44 refuses it ("same call cannot be used with
    different types"), the 6.18.35 sources keep the last struct's meta; not modelled."""
    key = ("kptr_struct_meta", env.insn_idx)
    seen = env.graph_cache.setdefault(key, (btf, btf_id))
    if seen[0] is not btf or seen[1] != btf_id:
        env.not_modelled(f"insn {env.insn_idx}: {name} called with objects of two struct types (kernels differ)")


def after_args(env: Env, st: VerifierState, meta: object) -> None:
    """What ``check_kfunc_call`` does after a release: a pushed/added node's owning reference
    becomes non-owning and its reference state is dropped."""
    from bpfbuild.verifier import transfer

    name = meta.name  # type: ignore[attr-defined]
    if name in _STRUCT_META_KFUNCS:
        _one_type_per_call(env, meta.arg_btf, meta.arg_btf_id, name)  # type: ignore[attr-defined]
    if name not in ("bpf_list_push_front_impl", "bpf_list_push_back_impl", "bpf_rbtree_add_impl"):
        return
    ref = st.frames[-1].regs[2].ref_obj_id
    convert_owning_non_owning(env, st, ref)
    if not transfer.release_reference(env, st, ref):
        func_id = meta.func_id  # type: ignore[attr-defined]
        raise env.error(f"kfunc {name}#{func_id} reference has not been acquired before")


def set_graph_return(env: Env, st: VerifierState, meta: object, r0: Reg, ptr_name: str) -> bool:
    """``check_special_kfunc`` for the graph kfuncs: r0 for bpf_refcount_acquire and for kfuncs
    returning a list/rbtree node.  False when the kfunc is none of them."""
    name = meta.name  # type: ignore[attr-defined]
    if name == "bpf_refcount_acquire_impl":
        r0.mark_known_zero()
        r0.type = _T.PTR_TO_BTF_ID | _F.MEM_ALLOC
        r0.btf = meta.arg_btf  # type: ignore[attr-defined]
        r0.btf_id = meta.arg_btf_id  # type: ignore[attr-defined]
        return True
    if ptr_name in ("bpf_list_node", "bpf_rb_node"):
        field = meta.graph_field  # type: ignore[attr-defined]
        if field is None:
            raise GraphNotModelled(f"the return value of {name} (no root argument)")
        _mark_graph_node(r0, meta.graph_btf, field)  # type: ignore[attr-defined]
        return True
    return False


def finish_return(env: Env, st: VerifierState, meta: object, r0: Reg, ptr_name: str, acquired: bool) -> None:
    """After the NULL and reference marks: a peeked node is non-owning; an object holding a
    lock keeps an id (``reg_may_point_to_spin_lock``)."""
    if not acquired and ptr_name in ("bpf_list_node", "bpf_rb_node"):
        _set_non_owning(env, st, r0)
    if _is_alloc(r0) and not r0.id and r0.btf is not None and alloc_has_lock(r0.btf, r0.btf_id):
        r0.id = env.new_id()


def set_rbtree_add_callback_state(env: Env, caller: object, callee: object) -> None:
    """``set_rbtree_add_callback_state``: ``less(a, b)`` gets two non-owning nodes of the tree."""
    r1 = caller.regs[1]  # type: ignore[attr-defined]
    rec = reg_btf_record(env, r1)
    field = rec.find(r1.off & 0xFFFFFFFF, frozenset({FieldKind.RB_ROOT})) if rec is not None else None
    if field is None or field.value_type <= 0:
        raise GraphNotModelled("the rbtree root of bpf_rbtree_add's callback")
    btf = r1.btf if r1.type != _T.PTR_TO_MAP_VALUE else env.prog_btf
    for regno in (1, 2):
        reg = callee.regs[regno]  # type: ignore[attr-defined]
        _mark_graph_node(reg, btf, field)
        reg.type |= _F.NON_OWN_REF
        vrec = reg_btf_record(env, reg)
        if vrec is not None and vrec.has(FieldKind.REFCOUNT):
            reg.type |= _F.MEM_RCU
    for regno in (3, 4, 5):
        callee.regs[regno].mark_not_init()  # type: ignore[attr-defined]
    callee.in_callback_fn = True  # type: ignore[attr-defined]
    callee.callback_ret_range = (0, 1)  # type: ignore[attr-defined]

