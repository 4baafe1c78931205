"""``Spec``: a lazily decoded ``.BTF`` section (program, vmlinux or split module BTF).

``Spec.from_bytes`` checks the header and indexes where every type record starts (one
pass, no decoding).  A type becomes a :mod:`bpfbuild.btf.types` record the first time
it is asked for and is cached on the instance; the name index is built on the first
``find``.  Split BTF (a kernel module's BTF on top of vmlinux) continues the base's
type ids and string offsets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from bpfbuild.btf import wire
from bpfbuild.btf.types import (
    Array,
    Const,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    EnumValue,
    Float,
    Func,
    FuncProto,
    Fwd,
    FwdKind,
    Int,
    IntEncoding,
    Kind,
    Linkage,
    Member,
    Param,
    Pointer,
    Restrict,
    Struct,
    Type,
    Typedef,
    TypeTag,
    Union,
    Var,
    VarSecinfo,
    Void,
    Volatile,
)
from bpfbuild.errors import BTFError, BpfBuildError

__all__ = ["POINTER_SIZE", "Spec"]

#: Size and alignment of a pointer on BPF (and on the 64-bit kernels whose BTF we read).
POINTER_SIZE = 8

_VOID = Void()
_QUALIFIERS = (Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG)
_INT_SIZES = frozenset({1, 2, 4, 8, 16})
_ENUM_SIZES = frozenset({1, 2, 4, 8})
_FLOAT_SIZES = frozenset({2, 4, 8, 12, 16})
_KINDS = tuple(Kind)


def _s32(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


class Spec:
    """The types of one ``.BTF`` section, decoded on demand.

    Ids run from 0 (``void``) to ``len(spec) - 1``; in split BTF the ids below
    ``first_id`` are the base's.  Iterating a spec yields every id, 0 included.
    """

    __slots__ = ("_base", "_types", "_strings", "_first_id", "_count", "_cache", "_names", "byteorder",
                 "_align")

    def __init__(self, *, base: Spec | None, types: wire.TypeSection, strings: wire.StringTable,
                 byteorder: wire.ByteOrder) -> None:
        self._base = base
        self._types = types
        self._strings = strings
        self._first_id = len(base) if base is not None else 1
        self._count = self._first_id + len(types.offsets)
        self._cache: list[Type | None] = [None] * len(types.offsets)
        self._names: dict[str, list[int]] | None = None
        self._align: dict[int, int] = {}
        self.byteorder = byteorder

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes, base: Spec | None = None) -> Spec:
        """Index a ``.BTF`` section.  ``base``: the vmlinux spec under a module's split BTF."""
        data = bytes(data)
        header = wire.parse_header(data)
        base_len = base._strings.total_len if base is not None else 0
        strings = wire.StringTable(data, header.strings_start, header.str_len,
                                   base=base._strings if base is not None else None, base_len=base_len)
        first_id = len(base) if base is not None else 1
        types = wire.index_types(data, header, first_id)
        return cls(base=base, types=types, strings=strings, byteorder=header.byteorder)

    @classmethod
    def from_file(cls, path: str | Path, base: Spec | None = None) -> Spec:
        """Read and index a raw BTF file (e.g. ``/sys/kernel/btf/vmlinux``)."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise BTFError(f"cannot read: {exc.strerror or exc}", file=str(path)) from exc
        try:
            return cls.from_bytes(data, base)
        except BpfBuildError as exc:
            raise exc.with_file(str(path))

    # -- ids ---------------------------------------------------------------------------------

    @property
    def base(self) -> Spec | None:
        return self._base

    @property
    def first_id(self) -> int:
        """The first id this section defines (1, or ``len(base)`` for split BTF)."""
        return self._first_id

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        return iter(range(self._count))

    def __contains__(self, type_id: object) -> bool:
        return isinstance(type_id, int) and 0 <= type_id < self._count

    def __repr__(self) -> str:
        split = f", split on {len(self._base)} base ids" if self._base is not None else ""
        return f"<Spec {self._count} ids{split}>"

    # -- cheap accessors (no decoding) -------------------------------------------------------

    def _locate(self, type_id: int) -> int:
        """Word offset of an own type's record; -1 for void or a base type."""
        local = type_id - self._first_id
        if 0 <= local < len(self._types.offsets):
            return self._types.offsets[local]
        if 0 <= type_id < self._first_id:
            return -1
        raise BTFError(f"type id {type_id} out of range (max {self._count - 1})", section=wire.BTF_SECTION)

    def kind_of(self, type_id: int) -> Kind:
        """The kind of a type without decoding it."""
        off = self._locate(type_id)
        if off >= 0:
            return _KINDS[(self._types.words[off + 1] >> 24) & 0x1F]
        if type_id and self._base is not None:
            return self._base.kind_of(type_id)
        return Kind.VOID

    def name_of(self, type_id: int) -> str:
        """The name of a type ("" when anonymous) without decoding the rest of it."""
        off = self._locate(type_id)
        if off >= 0:
            return self._string(self._types.words[off], off)
        if type_id and self._base is not None:
            return self._base.name_of(type_id)
        return ""

    def string_at(self, offset: int, *, section: str = wire.BTF_SECTION, where: int | None = None) -> str:
        """A string of the string section (``.BTF.ext`` refers to these too)."""
        return self._strings.get(offset, section=section, where=where)

    def _string(self, offset: int, word: int) -> str:
        return self._strings.get(offset, where=self._types.byte_offset(word))

    # -- decoding ----------------------------------------------------------------------------

    def type(self, type_id: int) -> Type:
        """The type of an id, decoded (and checked) on first use."""
        local = type_id - self._first_id
        if 0 <= local < len(self._cache):
            cached = self._cache[local]
            if cached is None:
                cached = self._cache[local] = self._decode(type_id, self._types.offsets[local])
            return cached
        if self._locate(type_id) < 0 and type_id and self._base is not None:
            return self._base.type(type_id)
        return _VOID

    def types(self) -> Iterator[Type]:
        """Every type in id order (decoding all of them)."""
        for type_id in range(self._count):
            yield self.type(type_id)

    def _decode(self, type_id: int, off: int) -> Type:
        w = self._types.words
        name_off, info, size_or_type = w[off], w[off + 1], w[off + 2]
        kind = (info >> 24) & 0x1F
        vlen = info & 0xFFFF
        kflag = info >> 31
        count = self._count
        byte = self._types.byte_offset

        def fail(message: str, word: int = off) -> BTFError:
            return BTFError(f"type [{type_id}] {_KINDS[kind].name}: {message}", section=wire.BTF_SECTION,
                            offset=byte(word))

        def ref(value: int, word: int) -> int:
            if value >= count:
                raise fail(f"refers to type id {value}, past the last id {count - 1}", word)
            return value

        def no_vlen() -> None:
            if vlen:
                raise fail(f"vlen {vlen} must be 0", off + 1)

        def no_kflag() -> None:
            if kflag:
                raise fail("kind_flag must be 0", off + 1)

        name = self._string(name_off, off)
        match kind:
            case Kind.INT:
                no_vlen()
                no_kflag()
                data = w[off + 3]
                encoding, bit_off, bits = (data >> 24) & 0x0F, (data >> 16) & 0xFF, data & 0xFF
                if data & 0xF000FF00:
                    raise fail(f"reserved bits set in {data:#010x}", off + 3)
                if encoding not in (0, 1, 2, 4):
                    raise fail(f"invalid encoding {encoding}", off + 3)
                if size_or_type not in _INT_SIZES:
                    raise fail(f"invalid size {size_or_type}", off + 2)
                if bits == 0 or bit_off + bits > 8 * size_or_type:
                    raise fail(f"{bits} bits at offset {bit_off} do not fit {size_or_type} bytes", off + 3)
                return Int(type_id, name, size_or_type, IntEncoding(encoding), bits, bit_off)
            case Kind.PTR:
                no_vlen()
                no_kflag()
                return Pointer(type_id, name, ref(size_or_type, off + 2))
            case Kind.ARRAY:
                no_vlen()
                no_kflag()
                return Array(type_id, name, ref(w[off + 3], off + 3), ref(w[off + 4], off + 4), w[off + 5])
            case Kind.STRUCT | Kind.UNION:
                members = []
                limit = 8 * size_or_type
                for i in range(off + 3, off + 3 + 3 * vlen, 3):
                    moff = w[i + 2]
                    if kflag:
                        bit_offset, bitfield = moff & 0xFFFFFF, moff >> 24
                    else:
                        bit_offset, bitfield = moff, 0
                    if bit_offset + bitfield > limit:
                        raise fail(f"member {(i - off - 3) // 3} at bit {bit_offset} lies past the size "
                                   f"({size_or_type} bytes)", i + 2)
                    members.append(Member(self._string(w[i], i), ref(w[i + 1], i + 1), bit_offset, bitfield))
                cls = Struct if kind == Kind.STRUCT else Union
                return cls(type_id, name, size_or_type, tuple(members))
            case Kind.ENUM:
                if size_or_type not in _ENUM_SIZES:
                    raise fail(f"invalid size {size_or_type}", off + 2)
                values = []
                for i in range(off + 3, off + 3 + 2 * vlen, 2):
                    raw = w[i + 1]
                    values.append(EnumValue(self._string(w[i], i), _s32(raw) if kflag else raw))
                return Enum(type_id, name, size_or_type, tuple(values), bool(kflag))
            case Kind.ENUM64:
                if size_or_type not in _ENUM_SIZES:
                    raise fail(f"invalid size {size_or_type}", off + 2)
                values = []
                for i in range(off + 3, off + 3 + 3 * vlen, 3):
                    raw = w[i + 1] | (w[i + 2] << 32)
                    if kflag and raw & (1 << 63):
                        raw -= 1 << 64
                    values.append(EnumValue(self._string(w[i], i), raw))
                return Enum64(type_id, name, size_or_type, tuple(values), bool(kflag))
            case Kind.FWD:
                no_vlen()
                if not name:
                    raise fail("forward declaration without a name", off)
                return Fwd(type_id, name, FwdKind.UNION if kflag else FwdKind.STRUCT)
            case Kind.TYPEDEF:
                no_vlen()
                no_kflag()
                if not name:
                    raise fail("typedef without a name", off)
                return Typedef(type_id, name, ref(size_or_type, off + 2))
            case Kind.VOLATILE | Kind.CONST | Kind.RESTRICT:
                no_vlen()
                no_kflag()
                qual = {Kind.VOLATILE: Volatile, Kind.CONST: Const, Kind.RESTRICT: Restrict}[_KINDS[kind]]
                return qual(type_id, name, ref(size_or_type, off + 2))
            case Kind.FUNC:
                no_kflag()
                if vlen > 2:
                    raise fail(f"invalid linkage {vlen}", off + 1)
                proto = ref(size_or_type, off + 2)
                if self.kind_of(proto) != Kind.FUNC_PROTO:
                    raise fail(f"type [{proto}] is not a FUNC_PROTO", off + 2)
                return Func(type_id, name, proto, Linkage(vlen))
            case Kind.FUNC_PROTO:
                no_kflag()
                params = []
                variadic = False
                for i in range(off + 3, off + 3 + 2 * vlen, 2):
                    pname, ptype = self._string(w[i], i), ref(w[i + 1], i + 1)
                    if ptype == 0 and not pname:
                        if i != off + 1 + 2 * vlen:
                            raise fail("'...' is not the last parameter", i + 1)
                        variadic = True
                    else:
                        params.append(Param(pname, ptype))
                return FuncProto(type_id, name, ref(size_or_type, off + 2), tuple(params), variadic)
            case Kind.VAR:
                no_vlen()
                no_kflag()
                linkage = w[off + 3]
                if linkage > 2:
                    raise fail(f"invalid linkage {linkage}", off + 3)
                return Var(type_id, name, ref(size_or_type, off + 2), Linkage(linkage))
            case Kind.DATASEC:
                no_kflag()
                entries = tuple(VarSecinfo(ref(w[i], i), w[i + 1], w[i + 2])
                                for i in range(off + 3, off + 3 + 3 * vlen, 3))
                return Datasec(type_id, name, size_or_type, entries)
            case Kind.FLOAT:
                no_vlen()
                no_kflag()
                if size_or_type not in _FLOAT_SIZES:
                    raise fail(f"invalid size {size_or_type}", off + 2)
                return Float(type_id, name, size_or_type)
            case Kind.DECL_TAG:
                no_vlen()
                if not name:
                    raise fail("tag without a name", off)
                component = _s32(w[off + 3])
                if component < -1:
                    raise fail(f"invalid component index {component}", off + 3)
                return DeclTag(type_id, name, ref(size_or_type, off + 2), component, bool(kflag))
            case Kind.TYPE_TAG:
                no_vlen()
                if not name:
                    raise fail("tag without a name", off)
                return TypeTag(type_id, name, ref(size_or_type, off + 2), bool(kflag))
        raise fail("unknown kind")  # pragma: no cover - index_types rejects these

    # -- look-ups ----------------------------------------------------------------------------

    def _name_index(self) -> dict[str, list[int]]:
        if self._names is None:
            names: dict[str, list[int]] = {}
            words, offsets, first = self._types.words, self._types.offsets, self._first_id
            for local, off in enumerate(offsets):
                name_off = words[off]
                if name_off:
                    names.setdefault(self._string(name_off, off), []).append(first + local)
            self._names = names
        return self._names

    def find(self, name: str, kind: Kind | type | None = None) -> tuple[int, ...]:
        """Ids of every type called ``name`` (base types first), optionally of one kind.

        ``kind`` is a :class:`Kind` or a model class such as ``Struct``.
        """
        want = _kind_filter(kind)
        found = self._base.find(name, want) if self._base is not None else ()
        own = self._name_index().get(name, ())
        if want is not None:
            own = [i for i in own if self.kind_of(i) == want]
        return (*found, *own)

    def find_one(self, name: str, kind: Kind | type | None = None) -> int:
        """The id of the one type called ``name``; an error if there is none or several."""
        want = _kind_filter(kind)
        ids = self.find(name, want)
        what = f"{want.name} " if want is not None else ""
        if not ids:
            raise BTFError(f"no {what}type named {name!r}", section=wire.BTF_SECTION)
        if len(ids) > 1:
            raise BTFError(f"{len(ids)} {what}types named {name!r}: ids {', '.join(map(str, ids))}",
                           section=wire.BTF_SECTION)
        return ids[0]

    # -- resolution --------------------------------------------------------------------------

    def resolve(self, type_id: int) -> Type:
        """The type under typedefs, const/volatile/restrict and type tags."""
        for _ in range(self._count):
            if self.kind_of(type_id) not in _QUALIFIERS:
                return self.type(type_id)
            type_id = self.type(type_id).type  # type: ignore[union-attr]
        raise BTFError(f"type [{type_id}] is part of a typedef/qualifier cycle", section=wire.BTF_SECTION)

    def size_of(self, type_id: int) -> int:
        """Size in bytes of a type (arrays multiplied out, qualifiers and typedefs followed)."""
        factor = 1
        start = type_id
        for _ in range(self._count):
            t = self.type(type_id)
            match t:
                case Int() | Enum() | Enum64() | Struct() | Union() | Float() | Datasec():
                    return factor * t.size
                case Pointer():
                    return factor * POINTER_SIZE
                case Typedef() | Const() | Volatile() | Restrict() | TypeTag() | Var():
                    type_id = t.type
                case Array():
                    factor *= t.nelems
                    type_id = t.type
                case _:
                    raise BTFError(f"type [{start}] has no size ({t.kind.name} [{t.id}])",
                                   section=wire.BTF_SECTION)
        raise BTFError(f"type [{start}] is part of a reference cycle", section=wire.BTF_SECTION)

    def align_of(self, type_id: int) -> int:
        """Natural alignment in bytes on a 64-bit target (1 for structs laid out packed).

        Iterative (an explicit stack): deep nesting is not limited by Python's recursion.
        """
        cache = self._align
        stack = [type_id]
        expanded: set[int] = set()
        while stack:
            tid = stack[-1]
            if tid in cache:
                stack.pop()
                continue
            t = self.type(tid)
            match t:
                case Typedef() | Const() | Volatile() | Restrict() | TypeTag() | Var() | Array():
                    deps: tuple[int, ...] = (t.type,)
                case Struct() | Union():
                    deps = tuple(m.type for m in t.members)
                case Int() | Enum() | Enum64() | Float() | Pointer():
                    deps = ()
                case _:
                    raise BTFError(f"type [{tid}] ({t.kind.name}) has no alignment", section=wire.BTF_SECTION)
            missing = [d for d in deps if d not in cache]
            if missing:
                if tid in expanded or any(d in expanded for d in missing):
                    raise BTFError(f"type [{tid}] is part of a reference cycle", section=wire.BTF_SECTION)
                expanded.add(tid)
                stack.extend(missing)
                continue
            cache[tid] = self._align_from(t)
            stack.pop()
        return cache[type_id]

    def _align_from(self, t: Type) -> int:
        """Alignment of ``t`` once its parts' alignments are cached."""
        cache = self._align
        match t:
            case Int() | Enum() | Enum64() | Float():
                return min(t.size, 16)
            case Pointer():
                return POINTER_SIZE
            case Struct() | Union():
                align = 1
                packed = False
                for m in t.members:
                    a = cache[m.type]
                    align = max(align, a)
                    if not m.bitfield_size and m.bit_offset % (8 * a):
                        packed = True
                return 1 if packed or t.size % align else align
            case _:
                return cache[t.type]  # type: ignore[union-attr]


def _kind_filter(kind: Kind | type | None) -> Kind | None:
    if kind is None or isinstance(kind, Kind):
        return kind
    value = getattr(kind, "kind", None)
    if isinstance(value, Kind):
        return value
    raise BTFError(f"not a BTF kind: {kind!r}", section=wire.BTF_SECTION)
