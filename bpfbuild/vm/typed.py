"""Typed values: bytes <-> Python values through BTF, a small C-like layout, or plain ints.

What the Python API (``obj.globals.counter``, ``obj.maps.proto_count[6]``) and the test specs
read and write are values, not bytes.  A :class:`ValueType` converts both ways:

* :class:`BtfType` - a type of the object's BTF.  Decoding is
  :func:`bpfbuild.btf.value.btf_value` (ints, enums by name, C strings for char arrays,
  lists, dicts for structs); encoding takes the same shapes back: an int or an enumerator
  name, a ``str`` for a char array, a list for an array, a dict for a struct or union
  (members not given keep the bytes of ``base``, or zero).
* :class:`Layout` - ``"u32 pid; u32 uid; char comm[16]"``: for data BTF does not describe
  (ring-buffer records, whose type the object's BTF usually lacks).  Types ``u8 u16 u32 u64
  s8 s16 s32 s64 char bool`` (also ``__u32``, ``int``, ``long``...), arrays with ``[N]``,
  members at their natural alignment as a C compiler places them.
* :class:`RawType` - no type known: 1/2/4/8 bytes are a little-endian unsigned int, other
  sizes a hex string.

:func:`same_value` compares an expected value (as a spec writes it) with actual bytes: the
expectation is encoded over the actual bytes and both are decoded, so a dict names only the
members it cares about and ``"XDP_PASS"``-style enumerator names equal their numbers.
Every problem with a value is a :class:`~bpfbuild.errors.SpecError`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bpfbuild.btf import types as bt
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.value import btf_value
from bpfbuild.errors import BpfBuildError, SpecError

__all__ = ["BtfType", "Layout", "RawType", "ValueType", "btf_type_named", "same_value", "value_type"]


class ValueType(Protocol):
    """Bytes of one size <-> a Python value."""

    @property
    def size(self) -> int: ...

    @property
    def name(self) -> str: ...

    def decode(self, data: bytes) -> Any: ...

    def encode(self, value: Any, base: bytes | None = None) -> bytes: ...


def _int_bytes(value: Any, size: int, signed: bool | None, what: str) -> bytes:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, str) and size == 1 and len(value.encode()) == 1:
        value = value.encode()[0]
    if not isinstance(value, int):
        raise SpecError(f"{what}: expected an integer, not {value!r}")
    lo = -(1 << (8 * size - 1))
    hi = (1 << (8 * size)) - 1
    if not lo <= value <= hi:
        raise SpecError(f"{what}: {value} does not fit in {size} byte{'s' if size > 1 else ''}")
    return (value & hi).to_bytes(size, "little")


def _string_bytes(value: Any, size: int, what: str) -> bytes:
    raw = value.encode() if isinstance(value, str) else bytes(value)
    if len(raw) > size:
        raise SpecError(f"{what}: {value!r} is longer than {size} bytes")
    return raw.ljust(size, b"\0")


def _printable_string(raw: bytes) -> str | None:
    end = raw.find(b"\0")
    if end < 0 or not all(0x20 <= b < 0x7F for b in raw[:end]):
        return None
    return raw[:end].decode("ascii")


# --- raw ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RawType:
    """No type information: small sizes as unsigned ints, other sizes as hex text."""

    size: int

    @property
    def name(self) -> str:
        return f"{self.size} bytes"

    def decode(self, data: bytes) -> Any:
        if self.size in (1, 2, 4, 8):
            return int.from_bytes(data[: self.size], "little")
        return data[: self.size].hex()

    def encode(self, value: Any, base: bytes | None = None) -> bytes:
        if isinstance(value, (bytes, bytearray)):
            raw = bytes(value)
        elif isinstance(value, str) and self.size not in (1, 2, 4, 8):
            try:
                raw = bytes.fromhex("".join(value.split()))
            except ValueError:
                raise SpecError(f"a {self.size}-byte value must be hex bytes, not {value!r}") from None
        else:
            return _int_bytes(value, self.size, None, f"a {self.size}-byte value")
        if len(raw) != self.size:
            raise SpecError(f"a {self.size}-byte value cannot be {len(raw)} bytes ({raw.hex()})")
        return raw


# --- BTF ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BtfType:
    """A type of an object's BTF."""

    spec: Spec
    type_id: int

    @property
    def size(self) -> int:
        return self.spec.size_of(self.type_id)

    @property
    def name(self) -> str:
        t = self.spec.resolve(self.type_id)
        prefix = {bt.Kind.STRUCT: "struct ", bt.Kind.UNION: "union ", bt.Kind.ENUM: "enum ",
                  bt.Kind.ENUM64: "enum "}.get(t.kind, "")
        return prefix + (self.spec.name_of(self.type_id) or t.name or t.kind.name.lower())

    def decode(self, data: bytes) -> Any:
        data = bytes(data).ljust(self.size, b"\0")
        return btf_value(self.spec, self.type_id, data, plain=False)

    def encode(self, value: Any, base: bytes | None = None) -> bytes:
        size = self.size
        buf = bytearray(bytes(base or b"")[:size].ljust(size, b"\0"))
        self._put(self.type_id, value, buf, 0, self.name)
        return bytes(buf)

    def _put(self, type_id: int, value: Any, buf: bytearray, at: int, what: str) -> None:
        spec = self.spec
        t = spec.resolve(type_id)
        match t:
            case bt.Int():
                if t.is_bool and isinstance(value, bool):
                    value = int(value)
                raw = _int_bytes(value, t.size, t.signed, what)
                if t.bits and t.bits < 8 * t.size:
                    raw = (int.from_bytes(raw, "little") & ((1 << t.bits) - 1)).to_bytes(t.size, "little")
                buf[at:at + t.size] = raw
            case bt.Enum() | bt.Enum64():
                if isinstance(value, str):
                    for ev in t.values:
                        if ev.name == value:
                            value = ev.value
                            break
                    else:
                        names = ", ".join(ev.name for ev in t.values)
                        raise SpecError(f"{what}: {value!r} is not an enumerator of enum {t.name or '(anonymous)'} "
                                        f"({names})")
                buf[at:at + t.size] = _int_bytes(value, t.size, t.signed, what)
            case bt.Pointer():
                buf[at:at + 8] = _int_bytes(value, 8, False, what)
            case bt.Float():
                fmt = {4: "<f", 8: "<d"}.get(t.size)
                if fmt is None or isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise SpecError(f"{what}: expected a number, not {value!r}")
                buf[at:at + t.size] = struct.pack(fmt, value)
            case bt.Array():
                elem = spec.resolve(t.type)
                esize = spec.size_of(t.type)
                if isinstance(value, (str, bytes)) and isinstance(elem, bt.Int) and esize == 1:
                    buf[at:at + t.nelems] = _string_bytes(value, t.nelems, what)
                    return
                if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
                    raise SpecError(f"{what}: expected a list of {t.nelems} elements, not {value!r}")
                if len(value) > t.nelems:
                    raise SpecError(f"{what}: {len(value)} elements given, the array has {t.nelems}")
                for i, item in enumerate(value):
                    self._put(t.type, item, buf, at + i * esize, f"{what}[{i}]")
            case bt.Struct() | bt.Union():
                if not isinstance(value, Mapping):
                    raise SpecError(f"{what}: expected a table of members, not {value!r}")
                members = self._members(t)
                for key, item in value.items():
                    found = members.get(key)
                    if found is None:
                        names = ", ".join(members) or "none"
                        raise SpecError(f"{what}: no member {key!r} (members: {names})")
                    member, base_bits = found
                    bit = base_bits + member.bit_offset
                    if member.bitfield_size:
                        width = member.bitfield_size
                        raw = _int_bytes(item, 8, None, f"{what}.{key}")
                        number = int.from_bytes(raw, "little") & ((1 << width) - 1)
                        start, end = at + bit // 8, at + (bit + width + 7) // 8
                        chunk = int.from_bytes(buf[start:end], "little")
                        shift = bit % 8
                        chunk = (chunk & ~(((1 << width) - 1) << shift)) | (number << shift)
                        buf[start:end] = chunk.to_bytes(end - start, "little")
                    else:
                        self._put(member.type, item, buf, at + bit // 8, f"{what}.{key}")
            case _:
                raise SpecError(f"{what}: cannot write a value of {t.kind.name.lower()} type")

    def _members(self, t: bt.Struct | bt.Union) -> dict[str, tuple[bt.Member, int]]:
        """Member name -> (member, bit offset of its enclosing anonymous member); anonymous
        struct/union members are flattened, as C lets you name their fields directly."""
        out: dict[str, tuple[bt.Member, int]] = {}
        for m in t.members:
            if m.name:
                out[m.name] = (m, 0)
                continue
            inner = self.spec.resolve(m.type)
            if isinstance(inner, (bt.Struct, bt.Union)):
                for name, (sub, off) in self._members(inner).items():
                    out.setdefault(name, (sub, off + m.bit_offset))
        return out


def btf_type_named(spec: Spec, name: str) -> BtfType:
    """``"struct task_struct"``, ``"union u"``, ``"enum e"`` or a typedef/int name -> its type."""
    words = name.split()
    kinds = {"struct": bt.Struct, "union": bt.Union, "enum": bt.Enum}
    try:
        if len(words) == 2 and words[0] in kinds:
            ids = spec.find(words[1], kinds[words[0]])
            if not ids and words[0] == "enum":
                ids = spec.find(words[1], bt.Enum64)
        else:
            ids = tuple(i for i in spec.find(name) if spec.kind_of(i) in (bt.Kind.TYPEDEF, bt.Kind.INT,
                                                                             bt.Kind.STRUCT, bt.Kind.UNION))
    except BpfBuildError as exc:
        raise SpecError(f"type {name!r}: {exc.message}") from None
    # prefer a complete definition (a struct with members over a forward declaration)
    for type_id in ids:
        try:
            spec.size_of(type_id)
        except BpfBuildError:
            continue
        return BtfType(spec, type_id)
    raise SpecError(f"the object's BTF has no type {name!r}")


# --- layouts -----------------------------------------------------------------------------

_SCALARS: dict[str, tuple[int, bool]] = {
    "u8": (1, False), "u16": (2, False), "u32": (4, False), "u64": (8, False),
    "s8": (1, True), "s16": (2, True), "s32": (4, True), "s64": (8, True),
    "__u8": (1, False), "__u16": (2, False), "__u32": (4, False), "__u64": (8, False),
    "__s8": (1, True), "__s16": (2, True), "__s32": (4, True), "__s64": (8, True),
    "__be16": (2, False), "__be32": (4, False),
    "char": (1, True), "bool": (1, False), "short": (2, True), "int": (4, True), "long": (8, True),
    "unsigned": (4, False), "unsigned char": (1, False), "unsigned short": (2, False),
    "unsigned int": (4, False), "unsigned long": (8, False), "long long": (8, True),
    "unsigned long long": (8, False), "pointer": (8, False),
}
#: Largest record a layout may describe (a ring buffer record, a map value: far below this).
MAX_LAYOUT_BYTES = 1 << 24
_MEMBER = re.compile(r"^(?P<type>[A-Za-z_][A-Za-z0-9_ ]*?)\s*(?P<ptr>\*?)\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                     r"\s*(?:\[\s*(?P<count>\d+)\s*\])?$")


@dataclass(frozen=True, slots=True)
class LayoutField:
    name: str
    type: str
    size: int          # of one element
    signed: bool
    count: int         # 0: not an array
    offset: int


@dataclass(frozen=True, slots=True)
class Layout:
    """A struct written as C-like members: ``"u32 pid; u32 uid; char comm[16]"``."""

    fields: tuple[LayoutField, ...]
    size: int
    text: str

    @property
    def name(self) -> str:
        return f"{{{self.text}}}"

    @classmethod
    def parse(cls, text: str) -> Layout:
        if not isinstance(text, str):
            raise SpecError(f"a layout must be a string like \"u32 pid; char comm[16]\", not {text!r}")
        fields: list[LayoutField] = []
        offset = 0
        align = 1
        for part in re.split(r"[;,\n]", text):
            part = " ".join(part.split())
            if not part:
                continue
            m = _MEMBER.match(part)
            base = " ".join(m["type"].split()) if m else ""
            if m is None or (base not in _SCALARS and not m["ptr"]):
                raise SpecError(f"layout member {part!r}: expected TYPE NAME or TYPE NAME[N] with TYPE one of "
                                "u8 u16 u32 u64 s8 s16 s32 s64 char bool int long (or a pointer)")
            size, signed = (8, False) if m["ptr"] else _SCALARS[base]
            count = int(m["count"]) if m["count"] else 0
            if m["count"] is not None and count == 0:
                raise SpecError(f"layout member {part!r}: an array needs at least one element")
            if size * max(count, 1) + offset > MAX_LAYOUT_BYTES:
                raise SpecError(f"layout member {part!r}: the layout would exceed {MAX_LAYOUT_BYTES} bytes")
            if any(f.name == m["name"] for f in fields):
                raise SpecError(f"layout member {m['name']!r} appears twice")
            offset = (offset + size - 1) // size * size
            fields.append(LayoutField(m["name"], base + m["ptr"], size, signed, count, offset))
            offset += size * max(count, 1)
            align = max(align, size)
        if not fields:
            raise SpecError(f"layout {text!r} has no members")
        return cls(tuple(fields), (offset + align - 1) // align * align, text)

    def decode(self, data: bytes) -> dict[str, Any]:
        data = bytes(data).ljust(self.size, b"\0")
        out: dict[str, Any] = {}
        for f in self.fields:
            def one(at: int, f: LayoutField = f) -> int:
                return int.from_bytes(data[at:at + f.size], "little", signed=f.signed)
            if f.count:
                raw = data[f.offset:f.offset + f.count]
                text = _printable_string(raw) if f.size == 1 and f.type == "char" else None
                out[f.name] = text if text is not None else [one(f.offset + i * f.size) for i in range(f.count)]
            else:
                out[f.name] = one(f.offset)
        return out

    def encode(self, value: Any, base: bytes | None = None) -> bytes:
        if not isinstance(value, Mapping):
            raise SpecError(f"a record of layout {{{self.text}}} must be a table of members, not {value!r}")
        buf = bytearray(bytes(base or b"")[: self.size].ljust(self.size, b"\0"))
        by_name = {f.name: f for f in self.fields}
        for key, item in value.items():
            f = by_name.get(key)
            if f is None:
                raise SpecError(f"layout {{{self.text}}} has no member {key!r}")
            if f.count and isinstance(item, (str, bytes)) and f.size == 1:
                buf[f.offset:f.offset + f.count] = _string_bytes(item, f.count, key)
            elif f.count:
                if not isinstance(item, Sequence) or isinstance(item, (str, bytes)) or len(item) > f.count:
                    raise SpecError(f"{key}: expected a list of at most {f.count} elements, not {item!r}")
                for i, elem in enumerate(item):
                    at = f.offset + i * f.size
                    buf[at:at + f.size] = _int_bytes(elem, f.size, f.signed, f"{key}[{i}]")
            else:
                buf[f.offset:f.offset + f.size] = _int_bytes(item, f.size, f.signed, key)
        return bytes(buf)


def value_type(spec: Spec | None, type_id: int, size: int) -> ValueType:
    """The BTF type when there is one of the right size, else a raw ``size``-byte type."""
    if spec is not None and type_id:
        try:
            t = BtfType(spec, type_id)
            if t.size == size:
                return t
        except BpfBuildError:
            pass
    return RawType(size)


def same_value(vtype: ValueType, expected: Any, actual: bytes) -> bool:
    """Does ``actual`` hold ``expected`` (dicts: only the members named; names = numbers)?"""
    return bool(vtype.decode(vtype.encode(expected, base=actual)) == vtype.decode(actual))
