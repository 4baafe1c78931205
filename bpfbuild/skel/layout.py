"""Python-side value layouts: how the Python skeleton turns a map key, value or global into
Python values and back, computed from BTF.

A :class:`Layout` is plain data; :meth:`Layout.data` spells it as nested tuples that the
generated module embeds and its small runtime interprets:

``("int", size, signed)``, ``("bool", size)``, ``("float", size)``, ``("str", size)`` (a C
``char[]``: text up to the first NUL), ``("bytes", size)``, ``("array", size, count, elem)``,
``("struct", size, ((name, bit_offset, bit_width, layout), ...))`` (``bit_width`` 0 unless a
bitfield; members of anonymous structs and unions are flattened into their parent, as C
lets one name them).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import (
    Array,
    Const,
    Enum,
    Enum64,
    Float,
    Int,
    Pointer,
    Restrict,
    Struct,
    Typedef,
    TypeTag,
    Union,
    Volatile,
)
from bpfbuild.errors import BTFError, SkelError

__all__ = ["Layout", "LayoutField", "LayoutKind", "layout_of", "raw_layout"]

_MAX_DEPTH = 64


class LayoutKind(enum.Enum):
    INT = "int"
    BOOL = "bool"
    FLOAT = "float"
    STR = "str"
    BYTES = "bytes"
    ARRAY = "array"
    STRUCT = "struct"


@dataclass(frozen=True, slots=True)
class LayoutField:
    name: str
    bit_offset: int
    bit_width: int        # 0: a whole member of layout.size bytes
    layout: Layout


@dataclass(frozen=True, slots=True)
class Layout:
    kind: LayoutKind
    size: int
    signed: bool = False
    count: int = 0
    elem: Layout | None = None
    fields: tuple[LayoutField, ...] = ()

    def data(self) -> tuple[object, ...]:
        """The layout as nested tuples of str/int/bool (what the generated module embeds)."""
        match self.kind:
            case LayoutKind.INT:
                return ("int", self.size, self.signed)
            case LayoutKind.ARRAY:
                assert self.elem is not None
                return ("array", self.size, self.count, self.elem.data())
            case LayoutKind.STRUCT:
                return ("struct", self.size,
                        tuple((f.name, f.bit_offset, f.bit_width, f.layout.data()) for f in self.fields))
        return (self.kind.value, self.size)


def raw_layout(size: int) -> Layout:
    return Layout(LayoutKind.BYTES, size)


def layout_of(spec: Spec | None, type_id: int, size: int) -> Layout:
    """The layout of BTF type ``type_id`` (``size`` bytes); raw bytes without BTF or type."""
    if spec is None or type_id == 0:
        return raw_layout(size)
    try:
        return _layout(spec, type_id, 0)
    except BTFError as exc:
        raise SkelError(f"BTF type [{type_id}]: {exc.message}") from exc


def _layout(spec: Spec, type_id: int, depth: int) -> Layout:
    if depth > _MAX_DEPTH:
        raise SkelError(f"BTF type [{type_id}] nests more than {_MAX_DEPTH} levels")
    t = spec.type(type_id)
    match t:
        case Typedef() | Const() | Volatile() | Restrict() | TypeTag():
            return _layout(spec, t.type, depth + 1)
        case Int():
            if t.is_bool:
                return Layout(LayoutKind.BOOL, t.size)
            if t.size > 8 or t.size == 0:
                return raw_layout(t.size)
            return Layout(LayoutKind.INT, t.size, signed=t.signed)
        case Enum() | Enum64():
            signed = t.signed or any(v.value < 0 for v in t.values)
            return Layout(LayoutKind.INT, t.size, signed=signed) if 0 < t.size <= 8 else raw_layout(t.size)
        case Float():
            return Layout(LayoutKind.FLOAT, t.size) if t.size in (4, 8) else raw_layout(t.size)
        case Pointer():
            return Layout(LayoutKind.INT, 8)
        case Array():
            elem = _layout(spec, t.type, depth + 1)
            size = elem.size * t.nelems
            under = spec.resolve(t.type)
            if isinstance(under, Int) and under.size == 1 and not under.is_bool:
                if under.name == "char" or under.is_char:
                    return Layout(LayoutKind.STR, size)
                return raw_layout(size)   # u8[N], unsigned char[N]: bytes as they are
            return Layout(LayoutKind.ARRAY, size, count=t.nelems, elem=elem)
        case Struct() | Union():
            return Layout(LayoutKind.STRUCT, t.size, fields=tuple(_fields(spec, t, 0, depth)))
    return raw_layout(spec.size_of(type_id))


def _fields(spec: Spec, t: Struct | Union, base_bits: int, depth: int) -> list[LayoutField]:
    out: list[LayoutField] = []
    for m in t.members:
        offset = base_bits + m.bit_offset
        width = m.bitfield_size
        if not width:
            under = spec.resolve(m.type)
            if isinstance(under, Int) and (under.bits != 8 * under.size or under.offset):
                width, offset = under.bits, offset + under.offset   # bitfield without the kind flag
        if not m.name:
            inner = spec.resolve(m.type)
            if not width and isinstance(inner, (Struct, Union)):
                out += _fields(spec, inner, offset, depth + 1)
            continue   # unnamed bitfields are padding
        layout = _layout(spec, m.type, depth + 1)
        if width:
            if layout.kind not in (LayoutKind.INT, LayoutKind.BOOL):
                layout = Layout(LayoutKind.INT, layout.size)
            out.append(LayoutField(m.name, offset, width, layout))
        elif offset % 8:
            out.append(LayoutField(m.name, offset, 0, raw_layout(layout.size)))
        else:
            out.append(LayoutField(m.name, offset, 0, layout))
    return out
