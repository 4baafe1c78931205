"""Special fields of a BTF type (the kernel's ``struct btf_record``), found by one walk.

The kernel parses a type's special fields with ``btf_parse_fields`` (kernel/bpf/btf.c): when a
map is created (its value type, or a global data section's variables) and when a program's BTF
is loaded (``btf_parse_struct_metas``: the structs ``bpf_obj_new`` may allocate).  A special
field is a struct the kernel knows by name (``struct bpf_spin_lock``, ``bpf_timer``,
``bpf_list_head``, ``bpf_refcount``...) or a pointer whose pointee starts with a ``kptr``,
``kptr_untrusted``, ``percpu_kptr`` or ``uptr`` type tag; nested structs and arrays of them are
walked.  Which structs count is the caller's mask (the kernel's ``field_mask``):
:data:`MAP_VALUE_STRUCTS` for map values, :data:`ALLOC_STRUCTS` for allocated objects; a struct
outside the mask is walked like any other.

:func:`parse_record` and :func:`parse_var_record` are the only walk: the verifier
(verifier/fields.py for map values, verifier/btfid.py for allocated objects) and the
compatibility check (obj/compat.py: which fields a map value holds) read the :class:`Record`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bpfbuild.btf.types import Array, Datasec, Kind, Pointer, Struct, TypeTag, Union

if TYPE_CHECKING:
    from bpfbuild.btf.spec import Spec

__all__ = ["ALLOC_STRUCTS", "EMPTY", "KPTRS", "MAP_VALUE_STRUCTS", "Field", "FieldKind", "Record",
           "may_hold_fields", "parse_record", "parse_var_record", "walk_fields"]


class FieldKind(enum.Enum):
    """``enum btf_field_type``; the value is the struct's name or the kptr's tag."""

    SPIN_LOCK = "bpf_spin_lock"
    RES_SPIN_LOCK = "bpf_res_spin_lock"
    TIMER = "bpf_timer"
    WORKQUEUE = "bpf_wq"
    TASK_WORK = "bpf_task_work"
    KPTR_UNREF = "kptr_untrusted"
    KPTR_REF = "kptr"
    KPTR_PERCPU = "percpu_kptr"
    UPTR = "uptr"
    LIST_HEAD = "bpf_list_head"
    LIST_NODE = "bpf_list_node"
    RB_ROOT = "bpf_rb_root"
    RB_NODE = "bpf_rb_node"
    REFCOUNT = "bpf_refcount"


KPTRS = frozenset({FieldKind.KPTR_UNREF, FieldKind.KPTR_REF, FieldKind.KPTR_PERCPU, FieldKind.UPTR})
_KPTR_TAGS = {k.value: k for k in KPTRS}
_STRUCTS = {k.value: k for k in FieldKind if k not in KPTRS}

#: the structs a map value's record holds (map_check_btf's field mask; Linux 6.18's also has
#: bpf_task_work)
MAP_VALUE_STRUCTS = frozenset({FieldKind.SPIN_LOCK, FieldKind.RES_SPIN_LOCK, FieldKind.TIMER,
                               FieldKind.WORKQUEUE, FieldKind.LIST_HEAD, FieldKind.RB_ROOT,
                               FieldKind.REFCOUNT})
#: the structs an allocated object's record holds (btf_parse_struct_metas' field mask, which in
#: Linux 6.18 lacks bpf_timer, bpf_wq and bpf_task_work)
ALLOC_STRUCTS = frozenset(k for k in FieldKind if k not in KPTRS)

#: every name that makes a field: a BTF without a type so named has only empty records
_FIELD_NAMES = frozenset(k.value for k in FieldKind)

#: nesting walked (the kernel's MAX_RESOLVE_DEPTH) and elements of one array walked
_MAX_DEPTH = 32
_MAX_ELEMS = 1024


@dataclass(frozen=True, slots=True)
class Field:
    """``struct btf_field``: ``kind`` at ``offset``, ``size`` bytes; kptrs name their pointee."""

    kind: FieldKind
    offset: int
    size: int
    pointee: str = ""      # kptrs: the struct the pointer points to (looked up in the kernel's BTF)
    #: graph roots (bpf_list_head, bpf_rb_root): ``graph_root.value_btf_id`` and ``node_offset``
    #: from the ``contains:<struct>:<node>`` decl tag; -1: a tag the kernel would refuse
    value_type: int = 0
    node_offset: int = 0

    @property
    def name(self) -> str:
        """``btf_field_type_name``: both referenced and untrusted kptrs are called "kptr"."""
        return "kptr" if self.kind is FieldKind.KPTR_UNREF else self.kind.value


@dataclass(frozen=True, slots=True)
class Record:
    """``struct btf_record``: the special fields of one type, by offset."""

    fields: tuple[Field, ...] = ()

    def has(self, *kinds: FieldKind) -> bool:
        return any(f.kind in kinds for f in self.fields)

    def offset_of(self, kind: FieldKind) -> int:
        """``rec->spin_lock_off`` & co: the field's offset, -22 (``-EINVAL``) when absent."""
        for f in self.fields:
            if f.kind is kind:
                return f.offset
        return -22

    def find(self, offset: int, kinds: frozenset[FieldKind]) -> Field | None:
        """``btf_record_find``: the field of one of ``kinds`` starting exactly at ``offset``."""
        for f in self.fields:
            if f.offset == offset and f.kind in kinds:
                return f
        return None


EMPTY = Record()


def parse_record(btf: Spec, type_id: int, structs: frozenset[FieldKind] = MAP_VALUE_STRUCTS) -> Record:
    """The special fields of BTF type ``type_id`` (a map's value type, a DATASEC of global data,
    or with ``structs=ALLOC_STRUCTS`` an allocated object's struct), nested structs and arrays of
    them included.  Unreadable BTF gives an empty record."""
    if not may_hold_fields(btf):
        return EMPTY
    try:
        return _record(walk_fields(btf, type_id, structs))
    except Exception:  # noqa: BLE001 - malformed BTF is the loader's error, not a field
        return EMPTY


def walk_fields(btf: Spec, type_id: int, structs: frozenset[FieldKind] = MAP_VALUE_STRUCTS) -> list[Field]:
    """The fields :func:`parse_record` finds, before the kernel's checks of the whole record
    (a graph root whose ``contains:`` tag is bad has ``value_type`` -1).  Raises on malformed BTF."""
    out: list[Field] = []
    t = btf.resolve(type_id)
    if isinstance(t, Datasec):
        for v in t.vars:
            var = btf.type(v.type)
            _walk(btf, getattr(var, "type", 0), v.offset, structs, out, 0, (v.type, -1))
    else:
        _walk(btf, type_id, 0, structs, out, 0)
    return out


def parse_var_record(btf: Spec, variables: tuple[tuple, ...],
                     structs: frozenset[FieldKind] = MAP_VALUE_STRUCTS) -> Record:
    """The special fields of global data from its variables: (BTF type id, offset[, name]),
    offsets as the ELF symbols give them (a DATASEC's own offsets may be 0, as libbpf knows and
    fixes); the name finds the VAR whose ``contains:`` tag types a graph root."""
    if not may_hold_fields(btf):
        return EMPTY
    out: list[Field] = []
    try:
        for type_id, offset, *name in variables:
            var_ids = btf.find(name[0], Kind.VAR) if name else ()
            _walk(btf, type_id, offset, structs, out, 0, (var_ids[0], -1) if len(var_ids) == 1 else None)
    except Exception:  # noqa: BLE001 - malformed BTF is the loader's error, not a field
        return EMPTY
    return _record(out)


def may_hold_fields(btf: Spec) -> bool:
    """False when no type of ``btf`` is named as a special struct or a kptr's tag: the walk
    would find nothing (whatever it walks), so the record is empty without it."""
    try:
        return btf.names_any(_FIELD_NAMES)
    except Exception:  # noqa: BLE001 - unreadable names: let the walk decide
        return True


def _record(out: list[Field]) -> Record:
    """``btf_parse_fields``' result: a record the kernel fails to parse (a ``contains:`` tag
    naming no struct or node, a graph root without a lock) is no record at all -- the map is
    created without special fields."""
    if not out or any(f.value_type < 0 for f in out):
        return EMPTY
    kinds = {f.kind for f in out}
    if kinds & {FieldKind.LIST_HEAD, FieldKind.RB_ROOT} and not kinds & {FieldKind.SPIN_LOCK, FieldKind.RES_SPIN_LOCK}:
        return EMPTY
    return Record(tuple(sorted(out, key=lambda f: f.offset)))


def _contains_tag(btf: Spec, target: tuple[int, int] | None) -> str | None:
    """The value of the ``contains:`` decl tag on a member (struct id, member index) or a
    variable (VAR id, -1); None when there is none or more than one (the kernel refuses both)."""
    if target is None:
        return None
    found = [tag for tag in btf.decl_tags(*target) if tag.startswith("contains:")]
    return found[0].removeprefix("contains:") if len(found) == 1 else None


def _graph_root(btf: Spec, kind: FieldKind, base: int, size: int, target: tuple[int, int] | None) -> Field:
    """``btf_find_graph_root`` + ``btf_parse_graph_root``: the value struct and its node's offset."""
    bad = Field(kind, base, size, value_type=-1)
    tag = _contains_tag(btf, target)
    if tag is None or ":" not in tag:
        return bad
    value_name, node_name = tag.split(":", 1)
    ids = btf.find(value_name, Kind.STRUCT)
    if not ids or not node_name:
        return bad
    hits = [m for m in btf.type(ids[0]).members if m.name == node_name]
    if len(hits) != 1:
        return bad
    node = btf.type(hits[0].type)
    node_type = "bpf_list_node" if kind is FieldKind.LIST_HEAD else "bpf_rb_node"
    if not isinstance(node, Struct) or node.name != node_type or hits[0].bit_offset % 64:
        return bad
    return Field(kind, base, size, value_type=ids[0], node_offset=hits[0].bit_offset // 8)


def _walk(btf: Spec, type_id: int, base: int, structs: frozenset[FieldKind], out: list[Field],
          depth: int, target: tuple[int, int] | None = None) -> None:
    """Append the fields of ``type_id`` at ``base``; ``target`` is where a ``contains:`` tag
    for it would be (the member or variable being walked)."""
    if depth > _MAX_DEPTH:
        return
    t = btf.resolve(type_id)
    if isinstance(t, Pointer):
        # a pointer whose pointee starts with a type tag: a kptr
        tag = btf.type(t.type)
        if isinstance(tag, TypeTag) and tag.name in _KPTR_TAGS:
            pointee = btf.resolve(tag.type)
            if isinstance(pointee, Struct):   # a forward declaration is no kptr (the kernel ignores it)
                out.append(Field(_KPTR_TAGS[tag.name], base, 8, pointee.name))
        return
    if isinstance(t, (Struct, Union)):
        kind = _STRUCTS.get(t.name) if isinstance(t, Struct) else None
        if kind is not None and kind in structs:
            if kind in (FieldKind.LIST_HEAD, FieldKind.RB_ROOT):
                out.append(_graph_root(btf, kind, base, t.size, target))
            else:
                out.append(Field(kind, base, t.size))
            return
        for idx, m in enumerate(t.members):
            if not m.bitfield_size:
                _walk(btf, m.type, base + m.byte_offset, structs, out, depth + 1, (t.id, idx))
    elif isinstance(t, Array):
        if not isinstance(btf.resolve(t.type), (Struct, Union, Pointer, Array)):
            return
        size = btf.size_of(t.type)
        count = min(t.nelems, _MAX_ELEMS)
        if count:
            # every element holds the fields of the first, one element size further on
            first: list[Field] = []
            _walk(btf, t.type, 0, structs, first, depth + 1, target)
            out += [replace(f, offset=base + i * size + f.offset) for i in range(count) for f in first]
