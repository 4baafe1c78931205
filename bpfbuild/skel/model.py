"""The skeleton model: everything a skeleton template lays out, computed from an object.

:func:`build_skeleton` turns an :class:`~bpfbuild.obj.spec.ObjectSpec` and the object's bytes
into a :class:`Skeleton`: the names bpftool would use, the maps and programs in libbpf's order,
one :class:`DataSection` per global-data map with its variables at their (fixed-up) offsets and
explicit padding, the C declaration of each variable (BTF -> C with const/volatile stripped,
as bpftool does, except in ``.kconfig``), and the layouts the Python skeleton decodes with.
Every identifier is checked here (:mod:`.names`); the templates only spell the model out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.btf.cdecl import declaration
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import (
    Array,
    Const,
    Datasec,
    Enum,
    Enum64,
    Float,
    Func,
    FuncProto,
    Int,
    Pointer,
    Restrict,
    Struct,
    Type,
    Typedef,
    TypeTag,
    Union,
    Var,
    Volatile,
)
from bpfbuild.errors import BTFError, SkelError
from bpfbuild.obj.spec import MapSpec, ObjectSpec, Program
from bpfbuild.skel.layout import Layout, layout_of, raw_layout
from bpfbuild.skel.names import (
    c_identifier,
    datasec_ident,
    header_guard,
    internal_map_ident,
    libbpf_map_name,
    python_identifier,
    sanitize,
)

__all__ = [
    "DataSection",
    "Padding",
    "SkelMap",
    "SkelProgram",
    "Skeleton",
    "Variable",
    "build_skeleton",
    "check_python_names",
    "check_type_names",
    "python_class_name",
]

#: bpftool assumes a 32-bit host when padding data sections: alignment is capped at 4.
_MAX_PAD_ALIGN = 4
#: Names the Python runtime uses on section, map-set and program-set objects.
PYTHON_RESERVED = frozenset({"as_dict", "_owner"})


@dataclass(frozen=True, slots=True)
class Variable:
    """A global variable as a member of its section's struct."""

    ident: str        # member name (sanitized variable name)
    name: str         # the variable's name in the object
    decl: str         # C declaration of the member ("int counter", "char name[16]")
    offset: int
    size: int
    layout: Layout


@dataclass(frozen=True, slots=True)
class Padding:
    """``char __padN[size]`` keeping the next variable at its offset."""

    ident: str
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class DataSection:
    """The struct a skeleton points at for one memory-mapped global-data map."""

    ident: str                              # member name: bss, data, rodata, data_custom
    section: str                            # ELF section (.bss, .data.custom)
    map_name: str                           # libbpf's map name (hello_bp.bss)
    struct: str                             # C struct tag: hello_bpf__bss
    members: tuple[Variable | Padding, ...]
    value_size: int
    readonly: bool                          # .rodata / .kconfig: frozen after load
    kconfig: bool

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(m for m in self.members if isinstance(m, Variable))

    @property
    def variable_idents(self) -> tuple[str, ...]:
        return tuple(v.ident for v in self.variables)


@dataclass(frozen=True, slots=True)
class SkelMap:
    ident: str                  # member of maps
    name: str                   # libbpf's map name for this skeleton (what the skeleton looks up)
    section: str
    type: str                   # map type, lower case (hash, array, prog_array, type 99)
    key_size: int
    value_size: int
    max_entries: int
    datasec: DataSection | None
    key: Layout
    value: Layout
    percpu: bool


@dataclass(frozen=True, slots=True)
class SkelProgram:
    name: str
    section: str
    type: str                   # program type, lower case ("xdp", "unknown")
    auto_attach: bool           # libbpf's skeleton attach handles it (SEC names a target)
    xdp: bool


@dataclass(frozen=True, slots=True)
class StructOps:
    """A struct_ops map (a variable in ``SEC(".struct_ops")`` / ``".struct_ops.link"``) and its
    shadow type, as bpftool writes it: function pointer members as ``struct bpf_program *``,
    scalars as themselves, everything else (arrays, structs, bitfields) padding."""

    ident: str
    members: tuple[str, ...]    # C declarations (without the ';')


@dataclass(frozen=True, slots=True)
class Skeleton:
    name: str                   # hello_bpf
    guard: str                  # __HELLO_BPF_SKEL_H__
    source: str                 # object file name, for the generated-file comment
    elf: bytes
    maps: tuple[SkelMap, ...]
    programs: tuple[SkelProgram, ...]
    datasecs: tuple[DataSection, ...]
    struct_ops: tuple[StructOps, ...] = ()

    @property
    def elf_sha256(self) -> str:
        return hashlib.sha256(self.elf).hexdigest()


# -- BTF -> C declarations ------------------------------------------------------------------------

#: The words C spells its base types with (BTF INT and FLOAT names are these: ``long unsigned int``).
_BASE_TYPE_WORDS = frozenset({"signed", "unsigned", "char", "short", "int", "long", "_Bool", "__int128",
                              "float", "double", "_Float16", "__fp16", "bool"})
#: A declaration is refused past this many types reachable from one variable (a BTF graph bomb).
_MAX_REACHABLE_TYPES = 100_000


def _base_type_name(name: str) -> bool:
    words = name.split(" ")
    return bool(words) and all(w in _BASE_TYPE_WORDS for w in words)


def _referenced(t: Type) -> list[tuple[int, str, str]]:
    """(type id, name, what the name is) for what ``t`` refers to and the names it spells."""
    match t:
        case Struct() | Union():
            return [(m.type, m.name, "member name") for m in t.members]
        case FuncProto():
            return [(t.return_type, "", "")] + [(p.type, p.name, "parameter name") for p in t.params]
        case Array():   # the index type (__ARRAY_SIZE_TYPE__) is never spelled
            return [(t.type, "", "")]
        case Enum() | Enum64():
            return [(0, v.name, "enumerator") for v in t.values]
        case Pointer() | Typedef() | Const() | Volatile() | Restrict() | TypeTag() | Var() | Func():
            return [(t.type, "", "")]
    return []


def check_type_names(btf: Spec, type_id: int, what: str) -> None:
    """SkelError unless every name a C declaration of ``type_id`` could spell is a C identifier.

    BTF names reach the generated header verbatim (``struct <tag> member;``, typedef names,
    members and enumerators of inline types, parameter names, type-tag attributes): a name that
    is not an identifier (``cfg\n#define ...``) would be code in every loader that includes the
    skeleton.  The kernel refuses such BTF (btf_name_valid_identifier) and bpftool/libbpf print
    names unchecked, so we refuse the object in one line rather than guess a spelling.  INT and
    FLOAT names must be C's own base type spellings (``long unsigned int``).
    """
    seen: set[int] = set()
    todo = [type_id]
    while todo:
        tid = todo.pop()
        if tid in seen or tid == 0:
            continue
        seen.add(tid)
        if len(seen) > _MAX_REACHABLE_TYPES:
            raise SkelError(f"{what}: its type reaches more than {_MAX_REACHABLE_TYPES} BTF types")
        try:
            t = btf.type(tid)
        except BTFError as exc:
            raise SkelError(f"{what}: {exc.message}") from exc
        if t.name:
            if isinstance(t, (Int, Float)):
                if not _base_type_name(t.name):
                    raise SkelError(f"{what}: BTF type [{tid}] {t.kind.name} name {_show(t.name)} "
                                    "is not a C base type")
            else:
                c_identifier(t.name, f"{what}: BTF type [{tid}] {t.kind.name} name")
        for ref, name, kind in _referenced(t):
            if name:
                c_identifier(name, f"{what}: BTF type [{tid}] {kind}")
            if ref:
                todo.append(ref)


def _show(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _declare(spec: Spec, type_id: int, ident: str, *, strip_mods: bool) -> str:
    """bpftool spells members with libbpf's ``strip_mods`` (``const volatile __u16 port`` ->
    ``__u16 port``, assignable before load) except in ``.kconfig``."""
    try:
        text = declaration(spec, type_id, ident, qualifiers=not strip_mods)
    except BTFError as exc:
        raise SkelError(f"variable {ident}: cannot spell its type in C: {exc.message}") from exc
    return text.replace("\n", "\n\t\t")   # members of inline anonymous types, indented under the struct


# -- building -------------------------------------------------------------------------------------


def _datasec(skel_name: str, ident: str, map_name: str, m: MapSpec, spec: ObjectSpec) -> DataSection:
    btf = spec.btf
    kconfig = m.section == ".kconfig"
    members: list[Variable | Padding] = []
    seen: dict[str, str] = {}
    off = 0
    pads = 0
    variables = sorted((v for v in m.variables if not v.static), key=lambda v: v.offset) if btf else []
    for var in variables:
        vident = c_identifier(sanitize(var.name), f"variable in {m.section}")
        if vident in seen:
            raise SkelError(f"{m.section}: variables {seen[vident]!r} and {var.name!r} have the same "
                            f"skeleton name {vident!r}")
        seen[vident] = var.name
        if var.type_id == 0 or btf is None:
            raise SkelError(f"{m.section}: variable {var.name!r} has no BTF type")
        if var.offset < off:
            raise SkelError(f"{m.section}: variable {var.name!r} at offset {var.offset} overlaps the "
                            f"previous one (ending at {off})")
        if var.offset + var.size > m.value_size:
            raise SkelError(f"{m.section}: variable {var.name!r} ({var.size} bytes at {var.offset}) "
                            f"lies outside the section ({m.value_size} bytes)")
        try:
            align = max(1, min(btf.align_of(var.type_id), _MAX_PAD_ALIGN))
        except BTFError as exc:
            raise SkelError(f"{m.section}: variable {var.name!r}: {exc.message}") from exc
        aligned = -(-off // align) * align
        if aligned != var.offset:
            members.append(Padding(f"__pad{pads}", off, var.offset - off))
            pads += 1
        check_type_names(btf, var.type_id, f"{m.section}: variable {var.name!r}")
        decl = _declare(btf, var.type_id, vident, strip_mods=not kconfig)
        members.append(Variable(vident, var.name, decl, var.offset, var.size,
                                layout_of(btf, var.type_id, var.size)))
        off = var.offset + var.size
    for p in members:
        if isinstance(p, Padding) and p.ident in seen:
            raise SkelError(f"{m.section}: variable {p.ident!r} collides with the skeleton's padding")
    return DataSection(ident=ident, section=m.section, map_name=map_name, struct=f"{skel_name}__{ident}",
                       members=tuple(members),
                       value_size=m.value_size, readonly=m.readonly, kconfig=kconfig)


def _key_value_layout(spec: ObjectSpec, m: MapSpec) -> tuple[Layout, Layout]:
    if m.is_global_data:
        return raw_layout(m.key_size), raw_layout(m.value_size)
    key = layout_of(spec.btf, m.key_type_id, m.key_size)
    value = layout_of(spec.btf, m.value_type_id, m.value_size)
    if key.size != m.key_size:
        key = raw_layout(m.key_size)
    if value.size != m.value_size:
        value = raw_layout(m.value_size)
    return key, value


_PERCPU = frozenset({MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH})


def _program(p: Program) -> SkelProgram:
    c_identifier(p.name, "program name")
    info = p.section_info
    auto = bool(info and info.sec_def.auto_attach is not None and info.attach_target)
    ptype = p.prog_type
    return SkelProgram(name=p.name, section=p.section, type=ptype.name.lower() if ptype is not None else "unknown",
                       auto_attach=auto, xdp=ptype is ProgType.XDP)


def build_skeleton(spec: ObjectSpec, elf: bytes, *, name: str, source: str) -> Skeleton:
    """The model of ``spec``'s skeleton called ``name`` (a checked identifier, see names.skeleton_name)."""
    c_identifier(name, "skeleton name")
    maps: list[SkelMap] = []
    datasecs: list[DataSection] = []
    idents: dict[str, str] = {}
    for m in spec.maps:
        if m.is_global_data:
            map_name = libbpf_map_name(name, m.section)
            ident = internal_map_ident(map_name)
            if ident is None:
                continue   # bpftool ignores global-data maps it cannot name
            c_identifier(ident, f"map member for section {m.section!r}")
            sec_ident = datasec_ident(m.section)
            if sec_ident == ident:
                ds = _datasec(name, ident, map_name, m, spec)
            else:   # no DATASEC of that name: an empty struct, as bpftool writes
                ds = DataSection(ident, m.section, map_name, f"{name}__{ident}", (), m.value_size, m.readonly,
                                 m.section == ".kconfig")
            datasecs.append(ds)
        else:
            map_name = m.name
            ident = c_identifier(m.name, "map name")
            ds = None
        if ident in idents:
            raise SkelError(f"maps {idents[ident]!r} and {map_name!r} have the same skeleton name {ident!r}")
        idents[ident] = map_name
        key, value = _key_value_layout(spec, m)
        maps.append(SkelMap(ident=ident, name=map_name, section=m.section, type=m.type_name,
                            key_size=m.key_size, value_size=m.value_size, max_entries=m.max_entries,
                            datasec=ds, key=key, value=value, percpu=m.type in _PERCPU))
    struct_ops = []
    for ident, size, type_id in _struct_ops_vars(spec):
        c_identifier(ident, "struct_ops map name")
        if ident in idents:
            raise SkelError(f"maps {idents[ident]!r} and {ident!r} have the same skeleton name {ident!r}")
        idents[ident] = ident
        maps.append(SkelMap(ident=ident, name=ident, section=".struct_ops", type="struct_ops", key_size=4,
                            value_size=size, max_entries=1, datasec=None, key=raw_layout(4),
                            value=raw_layout(size), percpu=False))
        struct_ops.append(StructOps(ident, _shadow_members(spec.btf, type_id, size)))
    programs = tuple(_program(p) for p in spec.programs)
    seen: set[str] = set()
    for p in programs:
        if p.name in seen:
            raise SkelError(f"two programs are called {p.name!r}")
        seen.add(p.name)
    return Skeleton(name=name, guard=header_guard(name), source=source, elf=bytes(elf), maps=tuple(maps),
                    programs=programs, datasecs=tuple(datasecs), struct_ops=tuple(struct_ops))


def _struct_ops_vars(spec: ObjectSpec) -> list[tuple[str, int, int]]:
    """(name, size, struct type id) of each struct_ops variable, in section then variable order:
    libbpf makes each a map of that name after every other map."""
    btf = spec.btf
    if btf is None:
        return []
    out = []
    for tid in btf:
        t = btf.type(tid) if tid else None
        if not isinstance(t, Datasec) or not (t.name == ".struct_ops" or t.name.startswith(".struct_ops.")):
            continue
        for vs in t.vars:
            var = btf.type(vs.type)
            if not isinstance(var, Var):
                continue
            type_id = _skip_mods_typedefs(btf, var.type)
            if not isinstance(btf.type(type_id), Struct):
                raise SkelError(f"struct_ops variable {var.name!r} is not a struct")
            out.append((var.name, btf.size_of(type_id), type_id))
    return out


def _skip_mods_typedefs(btf: Spec, type_id: int) -> int:
    for _ in range(64):
        t = btf.type(type_id) if type_id else None
        if not isinstance(t, (Const, Volatile, Restrict, Typedef, TypeTag)):
            return type_id
        type_id = t.type
    raise BTFError(f"type [{type_id}]: modifiers loop")


def _shadow_members(btf: Spec, type_id: int, size: int) -> tuple[str, ...]:
    """bpftool's struct_ops shadow members (gen.c walk_st_ops_shadow_vars, as facts)."""
    st = btf.type(type_id)
    assert isinstance(st, Struct)
    out: list[str] = []
    next_offset = 0
    for i, m in enumerate(st.members):
        offset = m.bit_offset // 8
        target = _skip_mods_typedefs(btf, m.type)
        t = btf.type(target) if target else None
        if m.bitfield_size or m.bit_offset % 8 or not m.name:
            continue
        if isinstance(t, (Int, Float, Enum, Enum64)):
            decl = f"{_scalar_c_type(t)} {c_identifier(m.name, 'struct_ops member')}"
            width = t.size
        elif isinstance(t, Pointer) and _is_func_ptr(btf, t.type):
            decl = f"struct bpf_program *{c_identifier(m.name, 'struct_ops member')}"
            width = 8
        else:
            continue
        if next_offset < offset:
            out.append(f"char __padding_{i}[{offset - next_offset}]")
        out.append(decl)
        next_offset = offset + width
    if next_offset < size:
        out.append(f"char __padding_end[{size - next_offset}]")
    return tuple(out)


def _scalar_c_type(t: Int | Float | Enum | Enum64) -> str:
    """A scalar as a loader can spell it without the program's typedefs and enums."""
    if isinstance(t, Float):
        return {4: "float", 8: "double"}.get(t.size, "long double")
    if isinstance(t, Int) and t.is_bool:
        return "_Bool"
    signed = t.signed
    base = {1: "char", 2: "short", 4: "int", 8: "long long"}.get(t.size, "long long")
    return base if signed and t.size != 1 else ("signed char" if signed else f"unsigned {base}")


def _is_func_ptr(btf: Spec, type_id: int) -> bool:
    target = _skip_mods_typedefs(btf, type_id)
    return bool(target) and isinstance(btf.type(target), FuncProto)


#: Module-level names of the Python skeleton a class name must not take.
_MODULE_NAMES = frozenset({"NAME", "ELF_SHA256", "Any", "Iterator", "TracebackType"})


def python_class_name(skel_name: str) -> str:
    """``hello_bpf`` -> ``HelloBpf`` (the Python skeleton's class)."""
    parts = [p for p in skel_name.split("_") if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts) or "Skeleton"
    if name[0].isdigit() or name in _MODULE_NAMES:
        name = "Skel" + name
    return name


def _python_name(name: str, what: str) -> None:
    python_identifier(name, what)
    if name in PYTHON_RESERVED or name.startswith("_skel") or (name.startswith("__") and name.endswith("__")):
        raise SkelError(f"{what} {name!r} is reserved in the Python skeleton")


def check_python_names(skel: Skeleton) -> None:
    """SkelError unless every name the Python skeleton defines is a usable Python identifier."""
    for m in skel.maps:
        _python_name(m.ident, "map name")
    for p in skel.programs:
        _python_name(p.name, "program name")
    for ds in skel.datasecs:
        _python_name(ds.ident, "section member")
        for v in ds.variables:
            _python_name(v.ident, f"variable in {ds.section}")
