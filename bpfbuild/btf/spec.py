"""``Spec``: a lazily decoded ``.BTF`` section (program, vmlinux or split module BTF).

``Spec.from_bytes`` checks the header and indexes where every type record starts (one
pass, no decoding).  A type becomes a :mod:`bpfbuild.btf.types` record the first time
it is asked for and is cached on the instance; the name index is built on the first
``find``.  Split BTF (a kernel module's BTF on top of vmlinux) continues the base's
type ids and string offsets.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import TypeAlias, TypeVar

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
from bpfbuild.errors import BpfBuildError, BTFError

__all__ = ["POINTER_SIZE", "Spec"]

#: Size and alignment of a pointer on BPF (and on the 64-bit kernels whose BTF we read).
POINTER_SIZE = 8
_T = TypeVar("_T")

_VOID = Void()
_QUALIFIERS = (Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG)
_INT_SIZES = frozenset({1, 2, 4, 8, 16})
_ENUM_SIZES = frozenset({1, 2, 4, 8})
_FLOAT_SIZES = frozenset({2, 4, 8, 12, 16})
_KINDS = tuple(Kind)


#: What ``Spec.find`` accepts as a kind: a Kind, a model class such as ``Struct``, or None.
KindFilter: TypeAlias = "Kind | type | None"


def _s32(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


class Spec:
    """The types of one ``.BTF`` section, decoded on demand.

    Ids run from 0 (``void``) to ``len(spec) - 1``; in split BTF the ids below
    ``first_id`` are the base's.  Iterating a spec yields every id, 0 included.
    """

    __slots__ = (
        "_align",
        "_base",
        "_cache",
        "_count",
        "_decl_tags",
        "_derived",
        "_first_id",
        "_names",
        "_name_offs",
        "_prefixed",
        "_strcache",
        "_strings",
        "_types",
        "byteorder",
    )

    def __init__(self, *, base: Spec | None, types: wire.TypeSection, strings: wire.StringTable,
                 byteorder: wire.ByteOrder) -> None:
        self._base = base
        self._types = types
        self._strings = strings
        self._first_id = len(base) if base is not None else 1
        self._count = self._first_id + len(types.offsets)
        self._cache: list[Type | None] = [None] * len(types.offsets)
        self._names: dict[str, list[int]] | None = None
        self._name_offs: dict[int, list[int]] | None = None
        self._prefixed: dict[tuple[str, str], tuple[int, ...]] = {}
        self._decl_tags: dict[tuple[int, int], tuple[str, ...]] | None = None
        self._align: dict[int, int] = {}
        self._derived: dict[Hashable, object] = {}
        self._strcache = strings.cache
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
        from bpfbuild.inputs import read_input

        data = read_input(path, error=BTFError)
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
        text = self._strcache.get(offset)
        if text is None:
            text = self._strings.get(offset, where=self._types.byte_offset(word))
        return text

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
        info = self._types.words[off + 1]
        decoder = _DECODERS[(info >> 24) & 0x1F]
        return decoder(self, type_id, off, info)

    # Per-kind decoders: ``off`` is the record's first word, ``info`` its second.

    def _fail(self, type_id: int, off: int, message: str, word: int | None = None) -> BTFError:
        kind = _KINDS[(self._types.words[off + 1] >> 24) & 0x1F]
        return BTFError(f"type [{type_id}] {kind.name}: {message}", section=wire.BTF_SECTION,
                        offset=self._types.byte_offset(off if word is None else word))

    def _ref(self, type_id: int, off: int, word: int) -> int:
        value = self._types.words[word]
        if value >= self._count:
            raise self._fail(type_id, off, f"refers to type id {value}, past the last id {self._count - 1}",
                             word)
        return value

    def _plain(self, type_id: int, off: int, info: int, *, kflag_ok: bool = False) -> str:
        """Checks for kinds without members (vlen 0, usually no kind flag); returns the name."""
        if info & 0xFFFF:
            raise self._fail(type_id, off, f"vlen {info & 0xFFFF} must be 0", off + 1)
        if info >> 31 and not kflag_ok:
            raise self._fail(type_id, off, "kind_flag must be 0", off + 1)
        return self._string(self._types.words[off], off)

    def _named(self, type_id: int, off: int, info: int, *, kflag_ok: bool = False) -> str:
        name = self._plain(type_id, off, info, kflag_ok=kflag_ok)
        if not name:
            raise self._fail(type_id, off, "needs a name")
        return name

    def _d_unknown(self, type_id: int, off: int, info: int) -> Type:
        raise self._fail(type_id, off, "unknown kind", off + 1)  # pragma: no cover - indexing rejects it

    def _d_int(self, type_id: int, off: int, info: int) -> Int:
        name = self._plain(type_id, off, info)
        w = self._types.words
        size, data = w[off + 2], w[off + 3]
        encoding, bit_off, bits = (data >> 24) & 0x0F, (data >> 16) & 0xFF, data & 0xFF
        if data & 0xF000FF00:
            raise self._fail(type_id, off, f"reserved bits set in {data:#010x}", off + 3)
        if encoding not in (0, 1, 2, 4):
            raise self._fail(type_id, off, f"invalid encoding {encoding}", off + 3)
        if size not in _INT_SIZES:
            raise self._fail(type_id, off, f"invalid size {size}", off + 2)
        if bits == 0 or bit_off + bits > 8 * size:
            raise self._fail(type_id, off, f"{bits} bits at offset {bit_off} do not fit {size} bytes",
                             off + 3)
        return Int(type_id, name, size, IntEncoding(encoding), bits, bit_off)

    def _d_ptr(self, type_id: int, off: int, info: int) -> Pointer:
        return Pointer(type_id, self._plain(type_id, off, info), self._ref(type_id, off, off + 2))

    def _d_array(self, type_id: int, off: int, info: int) -> Array:
        name = self._plain(type_id, off, info)
        return Array(type_id, name, self._ref(type_id, off, off + 3), self._ref(type_id, off, off + 4),
                     self._types.words[off + 5])

    def _d_composite(self, type_id: int, off: int, info: int) -> Struct | Union:
        w = self._types.words
        size = w[off + 2]
        limit = 8 * size
        kflag = info >> 31
        count = self._count
        string = self._string
        members = []
        for i in range(off + 3, off + 3 + 3 * (info & 0xFFFF), 3):
            moff, mtype = w[i + 2], w[i + 1]
            bit_offset, bitfield = (moff & 0xFFFFFF, moff >> 24) if kflag else (moff, 0)
            if bit_offset + bitfield > limit:
                index = (i - off - 3) // 3
                raise self._fail(type_id, off, f"member {index} at bit {bit_offset} lies past the size "
                                 f"({size} bytes)", i + 2)
            if mtype >= count:
                self._ref(type_id, off, i + 1)
            members.append(Member(string(w[i], i), mtype, bit_offset, bitfield))
        name = string(w[off], off)
        if (info >> 24) & 0x1F == Kind.STRUCT:
            return Struct(type_id, name, size, tuple(members))
        return Union(type_id, name, size, tuple(members))

    def _d_enum(self, type_id: int, off: int, info: int) -> Enum | Enum64:
        w = self._types.words
        size = w[off + 2]
        if size not in _ENUM_SIZES:
            raise self._fail(type_id, off, f"invalid size {size}", off + 2)
        signed = bool(info >> 31)
        string = self._string
        vlen = info & 0xFFFF
        values = []
        if (info >> 24) & 0x1F == Kind.ENUM:
            for i in range(off + 3, off + 3 + 2 * vlen, 2):
                raw = w[i + 1]
                values.append(EnumValue(string(w[i], i), _s32(raw) if signed else raw))
            return Enum(type_id, string(w[off], off), size, tuple(values), signed)
        for i in range(off + 3, off + 3 + 3 * vlen, 3):
            raw = w[i + 1] | (w[i + 2] << 32)
            if signed and raw & (1 << 63):
                raw -= 1 << 64
            values.append(EnumValue(string(w[i], i), raw))
        return Enum64(type_id, string(w[off], off), size, tuple(values), signed)

    def _d_fwd(self, type_id: int, off: int, info: int) -> Fwd:
        name = self._named(type_id, off, info, kflag_ok=True)
        return Fwd(type_id, name, FwdKind.UNION if info >> 31 else FwdKind.STRUCT)

    def _d_typedef(self, type_id: int, off: int, info: int) -> Typedef:
        return Typedef(type_id, self._named(type_id, off, info), self._ref(type_id, off, off + 2))

    def _d_volatile(self, type_id: int, off: int, info: int) -> Volatile:
        return Volatile(type_id, self._plain(type_id, off, info), self._ref(type_id, off, off + 2))

    def _d_const(self, type_id: int, off: int, info: int) -> Const:
        return Const(type_id, self._plain(type_id, off, info), self._ref(type_id, off, off + 2))

    def _d_restrict(self, type_id: int, off: int, info: int) -> Restrict:
        return Restrict(type_id, self._plain(type_id, off, info), self._ref(type_id, off, off + 2))

    def _d_func(self, type_id: int, off: int, info: int) -> Func:
        linkage = info & 0xFFFF
        if info >> 31:
            raise self._fail(type_id, off, "kind_flag must be 0", off + 1)
        if linkage > 2:
            raise self._fail(type_id, off, f"invalid linkage {linkage}", off + 1)
        proto = self._ref(type_id, off, off + 2)
        if self.kind_of(proto) != Kind.FUNC_PROTO:
            raise self._fail(type_id, off, f"type [{proto}] is not a FUNC_PROTO", off + 2)
        return Func(type_id, self._string(self._types.words[off], off), proto, _LINKAGES[linkage])

    def _d_func_proto(self, type_id: int, off: int, info: int) -> FuncProto:
        if info >> 31:
            raise self._fail(type_id, off, "kind_flag must be 0", off + 1)
        w = self._types.words
        count = self._count
        last = off + 1 + 2 * (info & 0xFFFF)
        params = []
        variadic = False
        for i in range(off + 3, last + 2, 2):
            ptype = w[i + 1]
            if ptype == 0 and w[i] == 0:
                if i != last:
                    raise self._fail(type_id, off, "'...' is not the last parameter", i + 1)
                variadic = True
                continue
            if ptype >= count:
                self._ref(type_id, off, i + 1)
            params.append(Param(self._string(w[i], i), ptype))
        return FuncProto(type_id, self._string(w[off], off), self._ref(type_id, off, off + 2), tuple(params),
                         variadic)

    def _d_var(self, type_id: int, off: int, info: int) -> Var:
        name = self._plain(type_id, off, info)
        linkage = self._types.words[off + 3]
        if linkage > 2:
            raise self._fail(type_id, off, f"invalid linkage {linkage}", off + 3)
        return Var(type_id, name, self._ref(type_id, off, off + 2), _LINKAGES[linkage])

    def _d_datasec(self, type_id: int, off: int, info: int) -> Datasec:
        if info >> 31:
            raise self._fail(type_id, off, "kind_flag must be 0", off + 1)
        w = self._types.words
        entries = tuple(VarSecinfo(self._ref(type_id, off, i), w[i + 1], w[i + 2])
                        for i in range(off + 3, off + 3 + 3 * (info & 0xFFFF), 3))
        return Datasec(type_id, self._string(w[off], off), w[off + 2], entries)

    def _d_float(self, type_id: int, off: int, info: int) -> Float:
        name = self._plain(type_id, off, info)
        size = self._types.words[off + 2]
        if size not in _FLOAT_SIZES:
            raise self._fail(type_id, off, f"invalid size {size}", off + 2)
        return Float(type_id, name, size)

    def _d_decl_tag(self, type_id: int, off: int, info: int) -> DeclTag:
        name = self._named(type_id, off, info, kflag_ok=True)
        component = _s32(self._types.words[off + 3])
        if component < -1:
            raise self._fail(type_id, off, f"invalid component index {component}", off + 3)
        return DeclTag(type_id, name, self._ref(type_id, off, off + 2), component, bool(info >> 31))

    def _d_type_tag(self, type_id: int, off: int, info: int) -> TypeTag:
        name = self._named(type_id, off, info, kflag_ok=True)
        return TypeTag(type_id, name, self._ref(type_id, off, off + 2), bool(info >> 31))

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

    def names_any(self, names: frozenset[str]) -> bool:
        """Whether a type of these types (or of the base's) is called one of ``names``: a
        look-up in the name index :meth:`find` builds, without decoding a type."""
        index = self._names
        if index is None:
            index = self._name_index()
        if not index.keys().isdisjoint(names):
            return True
        return self._base is not None and self._base.names_any(names)

    def find(self, name: str, kind: KindFilter = None) -> tuple[int, ...]:
        """Ids of every type called ``name`` (base types first), optionally of one kind.

        ``kind`` is a :class:`Kind` or a model class such as ``Struct``.
        """
        want = kind if kind is None or type(kind) is Kind else _kind_filter(kind)
        found = self._base.find(name, want) if self._base is not None else ()
        names = self._names
        own = (self._name_index() if names is None else names).get(name, ())
        if not own:
            return found
        if want is not None:
            own = [i for i in own if self.kind_of(i) == want]
        return (*found, *own)

    def decl_tags(self, type_id: int, component_idx: int = -1) -> tuple[str, ...]:
        """The names of the DECL_TAGs on ``type_id`` (``component_idx``: a member or parameter,
        -1 the declaration itself), in id order; the index is built on the first call."""
        if self._decl_tags is None:
            index: dict[tuple[int, int], list[str]] = {}
            for t in self.types():
                if isinstance(t, DeclTag):
                    index.setdefault((t.type, t.component_idx), []).append(t.name)
            self._decl_tags = {k: tuple(v) for k, v in index.items()}
        return self._decl_tags.get((type_id, component_idx), ())

    def derived(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """A value computed from these types alone (``key`` names it, with its inputs), kept
        with them: e.g. a map value's special fields, which every program of an object needs."""
        memo = self._derived
        if key in memo:
            return memo[key]  # type: ignore[return-value]
        value = memo[key] = compute()
        return value

    def forget_derived(self) -> None:
        """Drop what :meth:`derived` kept (a benchmark times each program as its object's first)."""
        self._derived.clear()

    def find_prefixed(self, name: str, sep: str) -> tuple[int, ...]:
        """Ids named ``name`` or ``name + sep + anything`` (CO-RE flavours: ``sep`` = "___").

        Searches the string bytes and the types' name offsets: cheap on a vmlinux BTF, where
        building the full name index decodes every name.  Answers are kept: the verifier asks
        for the same kernel types (``task_struct``...) program after program, and one search
        scans the whole string table.
        """
        known = self._prefixed.get((name, sep))
        if known is None:
            known = self._prefixed[name, sep] = self._find_prefixed(name, sep)
        return known

    def _find_prefixed(self, name: str, sep: str) -> tuple[int, ...]:
        found = self._base.find_prefixed(name, sep) if self._base is not None else ()
        offs = self._strings.offsets_named(name, sep)
        if not offs:
            return found
        if self._name_offs is None:
            by_off: dict[int, list[int]] = {}
            words, first = self._types.words, self._first_id
            for i, off in enumerate(self._types.offsets):
                by_off.setdefault(words[off], []).append(first + i)
            self._name_offs = by_off
        own = sorted(tid for off in offs for tid in self._name_offs.get(off, ()))
        return (*found, *own)

    def find_one(self, name: str, kind: KindFilter = None) -> int:
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


#: Decoder per wire kind (index = kind number; 0 never reaches here: indexing rejects it).
_DECODERS: tuple[Callable[[Spec, int, int, int], Type], ...] = (
    Spec._d_unknown, Spec._d_int, Spec._d_ptr, Spec._d_array, Spec._d_composite, Spec._d_composite,
    Spec._d_enum,
    Spec._d_fwd, Spec._d_typedef, Spec._d_volatile, Spec._d_const, Spec._d_restrict, Spec._d_func,
    Spec._d_func_proto, Spec._d_var, Spec._d_datasec, Spec._d_float, Spec._d_decl_tag, Spec._d_type_tag,
    Spec._d_enum,
)
_LINKAGES = tuple(Linkage)


def _kind_filter(kind: KindFilter) -> Kind | None:
    if kind is None or isinstance(kind, Kind):
        return kind
    value = getattr(kind, "kind", None)
    if isinstance(value, Kind):
        return value
    raise BTFError(f"not a BTF kind: {kind!r}", section=wire.BTF_SECTION)
