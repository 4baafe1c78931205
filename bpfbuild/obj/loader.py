"""ELF bytes -> :class:`~bpfbuild.obj.spec.ObjectSpec`, relocated the way libbpf does it.

``load_object(data, name=...)`` is pure; ``load_object_file(path)`` adds the path to errors.
Facts followed (libbpf 1.x): programs are the STT_FUNC symbols of executable sections other
than ``.text``; ``.text`` functions are subprograms, appended to each program that calls them
(transitively, in first-use order); maps come from ``maps`` (legacy), ``.maps`` (BTF-defined),
then the global data sections as single-entry arrays named ``<obj prefix><section>``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bpfbuild.abi.maptypes import MapFlag, MapType
from bpfbuild.abi.progtypes import classify_section
from bpfbuild.abi.target import Target
from bpfbuild.btf.ext import Ext
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import Array, Datasec, Enum, Enum64, Func, Kind, Linkage, Pointer, Struct, Var
from bpfbuild.errors import BpfBuildError, ObjectError
from bpfbuild.isa.codec import decode
from bpfbuild.isa.fields import InsnClass, JmpOp, PseudoCall, PseudoLoad
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.obj.elf import SHN_ABS, SHN_COMMON, SHN_UNDEF, ElfImage, Section, Symbol, read_elf
from bpfbuild.obj.externs import KCONFIG_SEC, ExternDecl, collect_externs, kconfig_layout, resolve_externs
from bpfbuild.obj.spec import (CodeSection, CoreReport, Extern, ExternKind, FuncInfo, LineRecord, MapSpec, ObjectSpec, Program,
                               SectionSummary, Variable)

__all__ = ["internal_map_name", "load_object", "load_object_file", "object_name"]

R_BPF_64_64 = 1
R_BPF_64_32 = 10
BPF_OBJ_NAME_LEN = 16
_CALL = InsnClass.JMP | JmpOp.CALL
_DATA_PREFIXES = (".data", ".bss", ".rodata")
_MAP_DEF_MEMBERS = {"type", "max_entries", "key_size", "value_size", "key", "value", "map_flags", "numa_node",
                    "pinning", "values", "map_extra"}


def object_name(path: str) -> str:
    """libbpf's object name: the file's base name up to its first dot (``hello.bpf.o`` -> ``hello``)."""
    base = os.path.basename(path)
    return base.split(".", 1)[0] if "." in base else base


def internal_map_name(obj_name: str, section: str) -> str:
    """libbpf's name for a global-data map: ``hello.bss``, ``xdp_prot.rodata``, ``.rodata.str1.1``."""
    sfx_len = max(7, len(section))
    pfx_len = 0 if "." in section[1:] else min(BPF_OBJ_NAME_LEN - sfx_len - 1, len(obj_name))
    name = (obj_name[:max(pfx_len, 0)] + section[:sfx_len])[: BPF_OBJ_NAME_LEN - 1]
    return "".join(ch if ch.isalnum() or ch in "_." else "_" for ch in name)


def default_target() -> Target:
    """The target when none is given: the running kernel (what libbpf would load against).

    Reading it costs nothing until an extern or a CO-RE relocation asks (everything is lazy).
    """
    return Target.running()


def load_object_file(path: str | Path, *, target: Target | None = None) -> ObjectSpec:
    from bpfbuild.inputs import read_input

    path = str(path)
    data = read_input(path, error=ObjectError)
    try:
        spec = load_object(data, name=object_name(path), target=target)
    except BpfBuildError as exc:
        raise exc.with_file(path) from None
    return ObjectSpec(**{**{f: getattr(spec, f) for f in spec.__dataclass_fields__}, "path": path})


def load_object(data: bytes, *, name: str = "obj", target: Target | None = None) -> ObjectSpec:
    """Read an object from bytes, externs resolved and CO-RE applied against ``target``.

    ``target`` defaults to :func:`default_target` (the running kernel, read lazily).  The result
    is a function of (bytes, name, target) only.  ObjectError/BTFError/DecodeError on anything
    malformed or, as libbpf would fail the load, on a strong extern or relocation that the target
    cannot satisfy.
    """
    img = read_elf(bytes(data))
    if not img.little_endian:
        raise ObjectError("big-endian BPF objects are not supported (built with -target bpfeb?)")
    return _Loader(img, name, target).run()


#: The largest array-map value the kernel allocates (KMALLOC_MAX_SIZE on x86-64 and arm64: 4 MiB);
#: a global-data section beyond it cannot be loaded, and its bytes are not allocated from a header.
MAX_DATA_SECTION = 4 << 20


def _ulong_value(t: Enum | Enum64, map_name: str) -> int:
    """A map attribute declared with ``__ulong(name, value)`` (a one-value enum, 64-bit where the
    value needs it: how bpf_helpers.h spells ``map_extra`` of 64 bits, e.g. an arena's address),
    read as libbpf's get_map_field_long reads it (a 32-bit enum's value sign-extended)."""
    if len(t.values) != 1:
        raise ObjectError(f"map {map_name}: map_extra: invalid __ulong (an enum of one value)", section=".maps")
    value = t.values[0].value
    if isinstance(t, Enum):
        value &= 0xFFFF_FFFF
        if value & 0x8000_0000:
            value -= 1 << 32
    return value & 0xFFFF_FFFF_FFFF_FFFF


def _is_data_section(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in _DATA_PREFIXES)


@dataclass(frozen=True, slots=True)
class _Func:
    """A function body in a section: symbol name, first slot, slot count."""

    name: str
    section: int
    start: int
    slots: int


class _Loader:
    def __init__(self, img: ElfImage, name: str, target: Target | None = None) -> None:
        self.img = img
        self.name = name
        self._target = target
        self.externs: tuple[Extern, ...] = ()
        self.extern_by_symbol: dict[int, Extern] = {}
        self.kconfig_map: int | None = None
        self.btf: Spec | None = None
        self.ext: Ext | None = None
        self.maps: list[MapSpec] = []
        self.map_by_symbol: dict[tuple[int, int], int] = {}   # (section idx, offset) -> map index
        self.data_map: dict[int, int] = {}                    # data section idx -> map index
        self.decoded: dict[int, tuple[tuple[Instruction, ...], list[int]]] = {}
        self.invalid: dict[int, str] = {}   # section index -> why its code does not decode
        self.poisoned: dict[tuple[str, int], str] = {}   # (section, slot) -> poisoned CO-RE relocation

    # --- top level ---------------------------------------------------------------------------

    def run(self) -> ObjectSpec:
        img = self.img
        license_sec = img.section("license")
        license = license_sec.data.split(b"\0", 1)[0].decode("latin-1") if license_sec else ""
        version_sec = img.section("version")
        kern_version = None
        if version_sec is not None:
            if len(version_sec.data) != 4:
                raise ObjectError("must be 4 bytes", section="version")
            kern_version = struct.unpack("<I", version_sec.data)[0]
        btf_sec = img.section(".BTF")
        if btf_sec is not None:
            self.btf = Spec.from_bytes(btf_sec.data)
            ext_sec = img.section(".BTF.ext")
            if ext_sec is not None:
                self.ext = Ext.from_bytes(ext_sec.data, strings_from=self.btf)
        variables = self._variables()
        decls = collect_externs(img.symbols, self.btf)
        self._legacy_maps()
        self._btf_maps()
        self._data_maps(variables)
        self._externs(decls)
        code_sections = self._code_sections()
        core = self._core()
        programs = self._programs(license)
        sections = tuple(SectionSummary(s.index, s.name, s.type_name, s.size, s.flags) for s in img.sections[1:])
        kvars = tuple(v for m in self.maps if m.section == KCONFIG_SEC for v in m.variables)
        used_target = self._target.describe() if self._target is not None else ""
        return ObjectSpec(self.name, img.header, programs, tuple(self.maps), license, kern_version, self.btf,
                          self.ext, sections, variables + kvars, code_sections, externs=self.externs,
                          core=core, target=used_target, hidden_funcs=self._hidden_funcs())

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = default_target()
        return self._target

    # --- externs and CO-RE ---------------------------------------------------------------------

    def _externs(self, decls: list[ExternDecl]) -> None:
        """Resolve externs against the target; ``.kconfig`` becomes a read-only global-data map."""
        if not decls:
            return
        self.externs, kcfg = resolve_externs(decls, self.btf, self.target)
        self.extern_by_symbol = {d.symbol: e for d, e in zip(decls, self.externs, strict=True)}
        size = kconfig_layout(decls)
        if not size:
            return
        assert self.btf is not None
        ds = self._datasec(KCONFIG_SEC)
        variables = tuple(Variable(e.name, KCONFIG_SEC, e.offset, e.size, e.type_id)
                          for e in self.externs if e.kind is ExternKind.KCONFIG)
        flags = MapFlag.MMAPABLE | MapFlag.RDONLY_PROG
        self.kconfig_map = self._add_map(MapSpec(
            name=internal_map_name(self.name, KCONFIG_SEC), type=MapType.ARRAY, key_size=4, value_size=size,
            max_entries=1, flags=int(flags), value_type_id=ds.id if ds is not None else 0, initial=kcfg,
            section=KCONFIG_SEC, readonly=True, variables=variables))

    def _core(self) -> CoreReport | None:
        """Apply the .BTF.ext CO-RE relocations to the code sections, in place (libbpf does it first)."""
        if self.ext is None or not any(self.ext.core_relos.values()):
            return None
        from bpfbuild.obj.core import apply_core
        assert self.btf is not None
        patched, report = apply_core(self.img, self.btf, self.ext, self.target, self._section_insns)
        for index, insns in patched.items():
            slots, pc = [], 0
            for insn in insns:
                slots.append(pc)
                pc += insn.slots
            self.decoded[index] = (insns, slots)
        self.poisoned = {(r.section, r.slot): r.spec_text for r in report.results if r.poisoned and r.spec_text}
        return report

    def _code_sections(self) -> tuple[CodeSection, ...]:
        out = []
        for sec in self.img.sections:
            if not (sec.executable and sec.size):
                continue
            insns, _ = self._section_insns(sec)
            funcs = tuple(sorted({s.value // 8: s.name for s in self._symbols_in(sec)
                                  if s.name and s.type in ("STT_FUNC", "STT_NOTYPE") and s.value % 8 == 0}.items()))
            relocs = []
            for r in self.img.relocations.get(sec.index, ()):
                sym = self._symbol(r.symbol, sec.name)
                name = sym.name or (self.img.sections[sym.shndx].name
                                    if 0 < sym.shndx < len(self.img.sections) else "")
                relocs.append((r.offset // 8, name))
            out.append(CodeSection(sec.name, insns, funcs, tuple(sorted(relocs))))
        return tuple(out)

    def _symbols_in(self, section: Section) -> list[Symbol]:
        return [s for s in self.img.symbols if s.shndx == section.index]

    def _symbol(self, index: int, where: str) -> Symbol:
        if not 0 <= index < len(self.img.symbols):
            raise ObjectError(f"relocation names symbol {index}, which does not exist", section=where)
        return self.img.symbols[index]

    def _section_at(self, index: int, where: str) -> Section:
        if not 0 < index < len(self.img.sections):
            raise ObjectError(f"symbol points at section {index}, which does not exist", section=where)
        return self.img.sections[index]

    # --- global variables ----------------------------------------------------------------------

    def _variables(self) -> tuple[Variable, ...]:
        """Every variable of every data section, offsets/sizes from the ELF symbol table.

        clang 14 writes offset 0 / size 0 in BTF DATASEC records; libbpf fixes them from the
        symbols when opening the object, and so do we.
        """
        out: list[Variable] = []
        for sec in self.img.sections:
            if not _is_data_section(sec.name):
                continue
            syms = {s.name: s for s in self._symbols_in(sec) if s.type == "STT_OBJECT"}
            datasec = self._datasec(sec.name)
            seen: set[str] = set()
            if datasec is not None and self.btf is not None:
                for vsi in datasec.vars:
                    var = self.btf.type(vsi.type)
                    if not isinstance(var, Var):
                        raise ObjectError(f"DATASEC {sec.name} lists type {vsi.type}, not a VAR", section=".BTF")
                    sym = syms.get(var.name)
                    offset, size = (sym.value, sym.size) if sym else (vsi.offset, vsi.size)
                    if size == 0:
                        try:
                            size = self.btf.size_of(var.type)
                        except BpfBuildError:
                            size = 0
                    static = var.linkage == Linkage.STATIC or (sym is not None and (
                        sym.bind == "STB_LOCAL" or sym.visibility in ("STV_HIDDEN", "STV_INTERNAL")))
                    out.append(Variable(var.name, sec.name, offset, size, var.type, static))
                    seen.add(var.name)
            for sym in syms.values():
                if sym.name not in seen:
                    out.append(Variable(sym.name, sec.name, sym.value, sym.size, 0,
                                        sym.bind == "STB_LOCAL" or sym.visibility != "STV_DEFAULT"))
            for v in out:
                if v.section == sec.name and v.offset + v.size > sec.size:
                    raise ObjectError(f"variable {v.name} runs past the end of the section", section=sec.name)
        return tuple(sorted(out, key=lambda v: (v.section, v.offset, v.name)))

    def _datasec(self, name: str) -> Datasec | None:
        if self.btf is None:
            return None
        for tid in self.btf.find(name, Kind.DATASEC):
            t = self.btf.type(tid)
            if isinstance(t, Datasec):
                return t
        return None

    # --- maps ------------------------------------------------------------------------------------

    def _add_map(self, spec: MapSpec, section: int | None = None, offset: int | None = None) -> int:
        if any(m.name == spec.name for m in self.maps):
            raise ObjectError(f"map {spec.name!r} is defined twice", section=spec.section)
        self.maps.append(spec)
        idx = len(self.maps) - 1
        if section is not None and offset is not None:
            self.map_by_symbol[(section, offset)] = idx
        return idx

    def _legacy_maps(self) -> None:
        sec = self.img.section("maps")
        if sec is None:
            return
        syms = sorted((s for s in self._symbols_in(sec) if s.type in ("STT_OBJECT", "STT_NOTYPE") and s.name),
                      key=lambda s: s.value)
        if not syms:
            return
        def_size = sec.size // len(syms)
        if def_size < 20 or sec.size % len(syms):
            raise ObjectError(f"cannot split {sec.size} bytes into {len(syms)} map definitions", section="maps")
        for sym in syms:
            raw = sec.data[sym.value: sym.value + def_size]
            if len(raw) < 20:
                raise ObjectError(f"map {sym.name}: definition truncated", section="maps", offset=sym.value)
            mtype, ksz, vsz, maxe, flags = struct.unpack_from("<5I", raw)
            self._add_map(MapSpec(sym.name, _map_type(mtype), ksz, vsz, maxe, flags, section="maps",
                                  symbol=sym.name), sec.index, sym.value)

    def _btf_maps(self) -> None:
        sec = self.img.section(".maps")
        if sec is None:
            return
        if self.btf is None:
            raise ObjectError("BTF-defined maps need a .BTF section (compile with -g)", section=".maps")
        datasec = self._datasec(".maps")
        if datasec is None:
            raise ObjectError("no DATASEC .maps in BTF", section=".BTF")
        syms = {s.name: s for s in self._symbols_in(sec) if s.name}
        values_relocs = {r.offset: r for r in self.img.relocations.get(sec.index, ())}
        for vsi in datasec.vars:
            var = self.btf.type(vsi.type)
            if not isinstance(var, Var):
                raise ObjectError(f"DATASEC .maps lists type {vsi.type}, not a VAR", section=".BTF")
            sym = syms.get(var.name)
            offset = sym.value if sym else vsi.offset
            spec = self._map_def(var.name, var.type, offset, sec, values_relocs)
            self._add_map(spec, sec.index, offset)

    def _map_def(self, name: str, type_id: int, offset: int, sec: Section,
                 values_relocs: dict[int, object], inner: bool = False) -> MapSpec:
        assert self.btf is not None
        btf = self.btf
        t = btf.resolve(type_id)
        if not isinstance(t, Struct):
            raise ObjectError(f"map {name}: definition is not a struct", section=".maps")
        fields: dict[str, int] = {}
        key_tid = value_tid = 0
        inner_spec: MapSpec | None = None
        values: list[tuple[int, str]] = []
        for m in t.members:
            if m.name not in _MAP_DEF_MEMBERS:
                raise ObjectError(f"map {name}: unknown attribute {m.name!r}", section=".maps")
            mt = btf.resolve(m.type)
            if m.name in ("key", "value"):
                if not isinstance(mt, Pointer):
                    raise ObjectError(f"map {name}: {m.name} must be a pointer (__type)", section=".maps")
                size = btf.size_of(mt.type)
                fields[f"{m.name}_size"] = _same(fields.get(f"{m.name}_size"), size, name, m.name)
                if m.name == "key":
                    key_tid = mt.type
                else:
                    value_tid = mt.type
            elif m.name == "values":
                if not isinstance(mt, Array):
                    raise ObjectError(f"map {name}: values must be an array (__array)", section=".maps")
                elem = btf.resolve(mt.type)
                if not isinstance(elem, Pointer):
                    raise ObjectError(f"map {name}: values must be an array of pointers", section=".maps")
                target = btf.resolve(elem.type)
                if isinstance(target, Struct) and not inner:
                    inner_spec = self._map_def(f"{name}.inner", elem.type, 0, sec, {}, inner=True)
                base = offset + m.bit_offset // 8
                for roff, reloc in values_relocs.items():
                    if roff >= base and (roff - base) % 8 == 0 and not inner:
                        sym = self._symbol(reloc.symbol, ".maps")  # type: ignore[attr-defined]
                        values.append(((roff - base) // 8, sym.name))
            elif m.name == "map_extra" and isinstance(mt, (Enum, Enum64)):
                fields[m.name] = _ulong_value(mt, name)
            else:
                if not isinstance(mt, Pointer):
                    raise ObjectError(f"map {name}: {m.name} must be declared with __uint", section=".maps")
                arr = btf.resolve(mt.type)
                if not isinstance(arr, Array):
                    raise ObjectError(f"map {name}: {m.name} must be declared with __uint", section=".maps")
                fields[m.name] = arr.nelems
        if "type" not in fields:
            raise ObjectError(f"map {name}: no type", section=".maps")
        mtype = _map_type(fields["type"])
        if inner_spec is not None and mtype in (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
            fields.setdefault("value_size", 4)
        if mtype == MapType.PROG_ARRAY:
            fields.setdefault("value_size", 4)
        return MapSpec(
            name=name, type=mtype, key_size=fields.get("key_size", 0), value_size=fields.get("value_size", 0),
            max_entries=fields.get("max_entries", 0), flags=fields.get("map_flags", 0), key_type_id=key_tid,
            value_type_id=value_tid, pinning=fields.get("pinning", 0), numa_node=fields.get("numa_node", 0),
            map_extra=fields.get("map_extra", 0), inner=inner_spec if mtype in (
                MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS) else None,
            section=".maps", symbol=name, values=tuple(sorted(values)))

    def _data_maps(self, variables: tuple[Variable, ...]) -> None:
        for sec in self.img.sections:
            if not _is_data_section(sec.name) or sec.size == 0:
                continue
            readonly = sec.name.startswith(".rodata")
            if not sec.nobits and len(sec.data) != sec.size:
                raise ObjectError("section data truncated", section=sec.name)
            if sec.size > MAX_DATA_SECTION:
                raise ObjectError(f"global data of {sec.size} bytes: larger than any map value the kernel "
                                  f"creates ({MAX_DATA_SECTION} bytes, KMALLOC_MAX_SIZE)", section=sec.name)
            value_tid = 0
            ds = self._datasec(sec.name)
            if ds is not None:
                value_tid = ds.id
            flags = MapFlag.MMAPABLE | (MapFlag.RDONLY_PROG if readonly else 0)
            spec = MapSpec(
                name=internal_map_name(self.name, sec.name), type=MapType.ARRAY, key_size=4,
                value_size=sec.size, max_entries=1, flags=int(flags), value_type_id=value_tid,
                initial=bytes(sec.size) if sec.nobits else sec.data, section=sec.name, readonly=readonly,
                variables=tuple(v for v in variables if v.section == sec.name))
            self.data_map[sec.index] = self._add_map(spec)

    # --- programs ----------------------------------------------------------------------------------

    def _section_insns(self, sec: Section) -> tuple[tuple[Instruction, ...], list[int]]:
        """Decoded instructions of a section and the slot of each."""
        hit = self.decoded.get(sec.index)
        if hit is None:
            if sec.nobits or len(sec.data) % 8:
                raise ObjectError(f"size {sec.size} is not a multiple of 8", section=sec.name)
            try:
                insns = decode(sec.data)
            except BpfBuildError as exc:
                # the kernel rejects the programs of this section, not the object: keep the raw
                # fields so the verifier can give the kernel's message (Program.invalid says why)
                self.invalid[sec.index] = str(exc)
                insns = _raw_insns(sec.data)
            slots, pc = [], 0
            for insn in insns:
                slots.append(pc)
                pc += insn.slots
            hit = (insns, slots)
            self.decoded[sec.index] = hit
        return hit

    def _hidden_funcs(self) -> frozenset[str]:
        """Global functions libbpf verifies as static (its ``mark_btf_static``: STV_HIDDEN/INTERNAL)."""
        return frozenset(s.name for s in self.img.symbols if s.type == "STT_FUNC" and s.bind != "STB_LOCAL"
                         and s.visibility in ("STV_HIDDEN", "STV_INTERNAL"))

    def _functions(self, sec: Section) -> list[_Func]:
        funcs = []
        for s in self._symbols_in(sec):
            if s.type != "STT_FUNC":
                continue
            if s.value % 8 or s.size % 8 or s.value + s.size > sec.size:
                raise ObjectError(f"function {s.name} is not instruction-aligned", section=sec.name)
            funcs.append(_Func(s.name, sec.index, s.value // 8, s.size // 8))
        return sorted(funcs, key=lambda f: f.start)

    def _programs(self, license: str) -> tuple[Program, ...]:
        self.funcs: dict[tuple[int, int], _Func] = {}
        progs_secs = []
        for sec in self.img.sections:
            if sec.executable and sec.size:
                for f in self._functions(sec):
                    self.funcs[(sec.index, f.start)] = f
                if sec.name != ".text":
                    progs_secs.append(sec)
        programs = []
        for sec in progs_secs:
            for f in self._functions(sec):
                if f.slots == 0:
                    continue
                programs.append(self._link(f, sec, license))
        return tuple(programs)

    def _body(self, f: _Func) -> list[Instruction]:
        """A function's instructions with map/global-data relocations applied."""
        sec = self.img.sections[f.section]
        insns, slots = self._section_insns(sec)
        by_slot = {s: i for i, s in enumerate(slots)}
        if f.start not in by_slot or (f.start + f.slots not in by_slot and f.start + f.slots != sum(
                i.slots for i in insns)):
            raise ObjectError(f"function {f.name} starts or ends inside an instruction", section=sec.name)
        first = by_slot[f.start]
        body = []
        i = first
        while i < len(insns) and slots[i] < f.start + f.slots:
            body.append(insns[i])
            i += 1
        return body

    def _link(self, entry: _Func, sec: Section, license: str) -> Program:
        """Entry function + the subprograms it reaches, relocated (libbpf's order and rules)."""
        out: list[Instruction] = []
        out_pcs: list[int] = []
        placed: dict[tuple[int, int], int] = {}
        line_info: list[LineRecord] = []
        func_info: list[FuncInfo] = []
        map_refs: list[tuple[int, int]] = []
        raw_map_loads: list[int] = []
        kfunc_calls: list[tuple[int, str]] = []
        core_poisoned: list[tuple[int, str]] = []
        queue: list[_Func] = [entry]
        pending_calls: list[tuple[int, tuple[int, int]]] = []   # (index in out, target function key)
        pc = 0
        while queue:
            f = queue.pop(0)
            key = (f.section, f.start)
            if key in placed:
                continue
            placed[key] = pc
            fsec = self.img.sections[f.section]
            body = self._body(f)
            relocs = {r.offset: r for r in self.img.relocations.get(f.section, ())}
            fslot = f.start
            for insn in body:
                off = fslot * 8
                reloc = relocs.get(off)
                new, target = self._relocate(insn, reloc, fsec, fslot, f)
                if new.opcode == LD_IMM64_OPCODE and new.src in (PseudoLoad.MAP_FD, PseudoLoad.MAP_VALUE):
                    if reloc is None:
                        raw_map_loads.append(pc)
                    else:
                        map_refs.append((pc, new.imm))
                if reloc is not None and new.opcode == _CALL and new.src == PseudoCall.KFUNC:
                    kext = self.extern_by_symbol.get(reloc.symbol)  # type: ignore[attr-defined]
                    if kext is not None:
                        kfunc_calls.append((pc, kext.name))
                if self.poisoned and (fsec.name, fslot) in self.poisoned:
                    core_poisoned.append((pc, self.poisoned[fsec.name, fslot]))
                if target is not None:
                    pending_calls.append((len(out), target))
                    tf = self.funcs.get(target)
                    if tf is None:
                        raise ObjectError(f"call at insn {fslot} of {f.name} targets slot {target[1]}, "
                                          "which starts no function", section=fsec.name)
                    if target not in placed and tf not in queue:
                        queue.append(tf)
                out.append(new)
                out_pcs.append(pc)
                pc += new.slots
                fslot += insn.slots
            self._ext_records(fsec.name, f, placed[key], line_info, func_info)
        # patch calls and callback addresses now that every function has a place
        for index, target in pending_calls:
            insn = out[index]
            rel = placed[target] - out_pcs[index] - 1
            out[index] = Instruction(insn.opcode, insn.dst, insn.src, insn.off, rel, insn.imm_hi)
        main_slots = entry.slots
        invalid = "; ".join(f"section {self.img.sections[i].name}: {self.invalid[i]}"
                            for i in sorted({k[0] for k in placed}) if i in self.invalid)
        return Program(entry.name, sec.name, classify_section(sec.name), tuple(out), license,
                       tuple(sorted(line_info, key=lambda r: r.pc)), tuple(sorted(func_info, key=lambda r: r.pc)),
                       tuple(map_refs), main_slots, tuple(kfunc_calls), invalid, tuple(raw_map_loads),
                       tuple(core_poisoned))

    def _relocate(self, insn: Instruction, reloc: object, sec: Section, slot: int,
                  f: _Func) -> tuple[Instruction, tuple[int, int] | None]:
        """Apply the relocation at one instruction; returns it and a call target to resolve."""
        is_call = insn.opcode == _CALL and insn.src == PseudoCall.CALL
        if reloc is None:
            if is_call:   # a call inside the same section, pc-relative already
                return insn, (sec.index, slot + insn.imm + 1)
            return insn, None
        rtype = reloc.type  # type: ignore[attr-defined]
        sym = self._symbol(reloc.symbol, sec.name)  # type: ignore[attr-defined]
        where = f"insn {slot} of {f.name}"
        ext = self.extern_by_symbol.get(reloc.symbol)  # type: ignore[attr-defined]
        if ext is not None:
            return self._relocate_extern(insn, ext, where, sec), None
        if rtype == R_BPF_64_32 and is_call:
            if sym.shndx in (SHN_UNDEF, SHN_ABS, SHN_COMMON):
                raise ObjectError(f"{where}: call to unresolved function {sym.name!r} (extern functions "
                                  "and kfuncs are not supported)", section=sec.name)
            tslot = (sym.value // 8 + insn.imm + 1) if sym.type != "STT_SECTION" else insn.imm + 1
            return insn, (sym.shndx, tslot)
        if rtype != R_BPF_64_64 or insn.opcode != LD_IMM64_OPCODE:
            raise ObjectError(f"{where}: relocation type {rtype} on an instruction that is not ld_imm64 "
                              "or call", section=sec.name)
        if sym.shndx in (SHN_UNDEF, SHN_COMMON):
            raise ObjectError(f"{where}: reference to unresolved symbol {sym.name!r} (externs, __ksym and "
                              "__kconfig are not supported yet)", section=sec.name)
        target = self._section_at(sym.shndx, sec.name)
        if target.executable:   # address of a function (callback for bpf_loop and friends)
            tslot = (sym.value + insn.imm) // 8
            new = Instruction(insn.opcode, insn.dst, PseudoLoad.FUNC, 0, 0, 0)
            return new, (target.index, tslot)
        if (target.index, sym.value) in self.map_by_symbol and target.name in ("maps", ".maps"):
            idx = self.map_by_symbol[(target.index, sym.value)]
            return Instruction(insn.opcode, insn.dst, PseudoLoad.MAP_FD, 0, idx, 0), None
        if target.index in self.data_map:
            idx = self.data_map[target.index]
            offset = insn.imm + (sym.value if sym.type != "STT_SECTION" else 0)
            if not 0 <= offset < max(target.size, 1):
                raise ObjectError(f"{where}: offset {offset} outside {target.name}", section=sec.name)
            return Instruction(insn.opcode, insn.dst, PseudoLoad.MAP_VALUE, 0, idx, offset), None
        raise ObjectError(f"{where}: relocation against {target.name!r}, which holds no map or data",
                          section=sec.name)

    def _relocate_extern(self, insn: Instruction, ext: Extern, where: str, sec: Section) -> Instruction:
        """libbpf's RELO_EXTERN_LD64 / RELO_EXTERN_CALL."""
        if insn.opcode == _CALL:
            if not ext.is_func:
                raise ObjectError(f"{where}: call to extern variable {ext.name!r}", section=sec.name)
            # an unresolved __weak kfunc keeps imm 0 (libbpf 1.1; the verifier rejects it if reached);
            # one in a module's BTF names that BTF by its fd_array index in off
            return Instruction(insn.opcode, insn.dst, PseudoCall.KFUNC, ext.btf_fd_index, ext.target_btf_id, 0)
        if insn.opcode != LD_IMM64_OPCODE:
            raise ObjectError(f"{where}: relocation against extern {ext.name!r} on an instruction that is not "
                              "ld_imm64 or call", section=sec.name)
        if ext.kind is ExternKind.KCONFIG:
            assert self.kconfig_map is not None
            return Instruction(insn.opcode, insn.dst, PseudoLoad.MAP_VALUE, 0, self.kconfig_map, ext.offset)
        if (ext.typed or ext.is_func) and ext.target_btf_id:   # a kfunc's address: its FUNC id (libbpf)
            # imm_hi: the BTF object's fd, 0 for vmlinux (a module's fd exists only at load time)
            return Instruction(insn.opcode, insn.dst, PseudoLoad.BTF_ID, 0, ext.target_btf_id, 0)
        return Instruction.ld_imm64(insn.dst, int(ext.value or 0))

    def _ext_records(self, section: str, f: _Func, at: int, lines: list[LineRecord],
                     funcs: list[FuncInfo]) -> None:
        if self.ext is None:
            return
        end = f.start + f.slots
        for li in self.ext.line_info.get(section, ()):
            if f.start <= li.slot < end:
                lines.append(LineRecord(at + li.slot - f.start, li.location, li.line_text))
        assert self.btf is not None
        for fi in self.ext.func_info.get(section, ()):
            if f.start <= fi.slot < end:
                t = self.btf.type(fi.type_id)
                funcs.append(FuncInfo(at + fi.slot - f.start, t.name if isinstance(t, Func) else f.name,
                                      fi.type_id))


def _map_type(value: int) -> MapType | int:
    try:
        return MapType(value)
    except ValueError:
        return value


def _same(old: int | None, new: int, map_name: str, what: str) -> int:
    if old is not None and old != new:
        raise ObjectError(f"map {map_name}: {what}_size {old} conflicts with the {what} type's size {new}",
                          section=".maps")
    return new


def _raw_insns(data: bytes) -> tuple[Instruction, ...]:
    """The fields of every slot as they are, valid or not (an ``ld_imm64`` takes its second
    slot's ``imm``); for code that :func:`~bpfbuild.isa.codec.decode` refuses."""
    out = []
    slots = [(c, r & 0xF, r >> 4, o, i) for c, r, o, i in struct.iter_unpack("<BBhi", data)]
    pc = 0
    while pc < len(slots):
        code, dst, src, off, imm = slots[pc]
        if code == LD_IMM64_OPCODE and pc + 1 < len(slots):
            out.append(Instruction(code, dst, src, off, imm, slots[pc + 1][4]))
            pc += 2
        else:
            out.append(Instruction(code, dst, src, off, imm))
            pc += 1
    return tuple(out)
