"""What an eBPF object contains, as our own records (built by :mod:`bpfbuild.obj.loader`).

Instructions in :class:`Program` are *as libbpf would load them*: subprograms appended,
bpf-to-bpf calls and callback addresses pc-relative, and every map reference an ``ld_imm64``
with ``src`` = ``PseudoLoad.MAP_FD`` (1) or ``PseudoLoad.MAP_VALUE`` (2), whose ``imm`` is the
index of the map in :attr:`ObjectSpec.maps` (the loader later swaps in an fd) and, for
MAP_VALUE, whose ``imm_hi`` is the byte offset into the map's value (global variables).
"""

from __future__ import annotations

import bisect
import enum
import functools
from dataclasses import dataclass, field

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType, SectionInfo
from bpfbuild.btf.ext import Ext
from bpfbuild.btf.spec import Spec
from bpfbuild.errors import ObjectError, no_such
from bpfbuild.isa.instruction import Instruction
from bpfbuild.location import SourceLocation
from bpfbuild.obj.elf import ElfHeader

__all__ = ["GPL_COMPATIBLE", "CodeSection", "CoreReport", "CoreResult", "Extern", "ExternKind", "FuncInfo",
           "LineRecord", "MapSpec", "ObjectSpec", "Program", "SectionSummary", "Variable", "is_gpl_compatible"]

#: Licences the kernel treats as GPL-compatible (include/linux/license.h).
GPL_COMPATIBLE = frozenset({"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL",
                            "Dual MPL/GPL"})


def is_gpl_compatible(license: str) -> bool:
    return license in GPL_COMPATIBLE


@dataclass(frozen=True, slots=True)
class Variable:
    """A global variable of a data section (offset/size fixed up from the ELF symbols)."""

    name: str
    section: str
    offset: int
    size: int
    type_id: int          # BTF type of the variable (0 without BTF)
    static: bool = False  # static/hidden: not exposed in skeletons (as bpftool does)


class ExternKind(enum.Enum):
    """Where an extern lives: ``.kconfig`` (``__kconfig``) or ``.ksyms`` (``__ksym``, kfuncs)."""

    KCONFIG = "kconfig"
    KSYM = "ksym"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Extern:
    """An ``extern`` of the object, resolved against the target as libbpf resolves it at load time.

    ``type_id`` is the extern's VAR (or, for a kfunc, FUNC) in the object's BTF.  ``value``: for
    ``__kconfig``, the int (bool/tristate/int/char) or bytes (char array) stored in the ``.kconfig``
    map at ``offset``; for an untyped ``__ksym``, the kallsyms address; None for typed ksyms and kfuncs,
    which resolve to ``target_btf_id`` (0 when unresolved).  ``source`` says where the value came from
    (``/proc/config.gz``, ``kallsyms``, ``target BTF``, ``__weak default``, ``uname``, ...).
    """

    name: str
    kind: ExternKind
    type_id: int
    weak: bool = False
    is_func: bool = False         # a kfunc declaration (extern function in .ksyms)
    value: int | bytes | None = None
    target_btf_id: int = 0        # typed ksym VAR / kfunc FUNC id in the target BTF; 0 if unresolved
    source: str = ""
    offset: int = -1              # .kconfig: byte offset in the .kconfig map (-1 for ksyms)
    size: int = 0                 # .kconfig: size in bytes
    kcfg_type: str = ""           # .kconfig: bool, tristate, char, int, char_array
    typed: bool = False           # ksym: declared with a type (ld_imm64 BTF_ID) rather than void (address)
    resolved: bool = False        # libbpf's is_set: False means the __weak zero default (or unresolved)
    btf_module: str = ""          # ksym/kfunc found in a module's BTF rather than vmlinux's
    btf_fd_index: int = 0         # kfunc in a module: its BTF's index in the load's fd_array (insn off)

    @property
    def value_text(self) -> str:
        """The value as `bpfbuild show` prints it."""
        if self.is_func or (self.kind is ExternKind.KSYM and self.typed):
            return f"btf_id {self.target_btf_id}" if self.target_btf_id else "unresolved (0)"
        if isinstance(self.value, bytes):
            return '"' + self.value.split(b"\0", 1)[0].decode("latin-1") + '"'
        if self.kind is ExternKind.KSYM:
            return f"{self.value or 0:#x}"
        if self.kcfg_type == "tristate":
            return {0: "n", 1: "y", 2: "m"}.get(int(self.value or 0), str(self.value))
        if self.kcfg_type == "char" and self.value:
            return repr(chr(int(self.value)))
        return str(self.value if self.value is not None else 0)


@dataclass(frozen=True, slots=True)
class CoreResult:
    """One applied CO-RE relocation: where, what, and the value before/after (poisoned: unresolvable)."""

    section: str
    slot: int
    kind: str           # field_byte_offset, type_exists, ...
    type_name: str      # local root type (with its flavour)
    access: str
    old: int
    new: int
    poisoned: bool = False
    target_type_id: int = 0
    spec_text: str = ""   # poisoned: the local spec as libbpf's log names it (``<byte_off> [17] struct s.f (0:0 @ offset 0)``)


@dataclass(frozen=True, slots=True)
class CoreReport:
    """What CO-RE relocation did to the object: the relocations and the BTF they were resolved against."""

    btf: str | None                    # path of the target BTF, None when the target had none
    results: tuple[CoreResult, ...] = ()
    unapplied: int = 0                 # relocations left as compiled (no target BTF to resolve them)

    @property
    def applied(self) -> int:
        return sum(1 for r in self.results if not r.poisoned)

    @property
    def poisoned(self) -> int:
        return sum(1 for r in self.results if r.poisoned)


@dataclass(frozen=True, slots=True)
class MapSpec:
    name: str
    type: MapType | int
    key_size: int
    value_size: int
    max_entries: int
    flags: int = 0
    key_type_id: int = 0
    value_type_id: int = 0
    pinning: int = 0
    numa_node: int = 0
    map_extra: int = 0
    inner: MapSpec | None = None
    initial: bytes | None = None           # global data: the section's initial bytes
    section: str = ".maps"                 # where it was defined (".maps", "maps", ".bss", ...)
    readonly: bool = False                 # .rodata/.kconfig: frozen after load, RDONLY_PROG
    symbol: str | None = None              # ELF symbol (BTF var) name for .maps definitions
    variables: tuple[Variable, ...] = ()   # global data: the variables it holds
    values: tuple[tuple[int, str], ...] = ()  # prog_array / map-in-map initial slots: (index, name)

    @property
    def is_global_data(self) -> bool:
        return self.initial is not None

    @property
    def type_name(self) -> str:
        try:
            return MapType(self.type).name.lower()
        except ValueError:
            return f"type {int(self.type)}"


@dataclass(frozen=True, slots=True)
class LineRecord:
    pc: int
    location: SourceLocation
    line_text: str


@dataclass(frozen=True, slots=True)
class FuncInfo:
    pc: int
    name: str
    type_id: int


@dataclass(frozen=True)   # not slotted: caches derived lookups (cached_property)
class Program:
    name: str
    section: str
    section_info: SectionInfo | None
    insns: tuple[Instruction, ...]
    license: str
    line_info: tuple[LineRecord, ...] = ()
    func_info: tuple[FuncInfo, ...] = ()
    map_refs: tuple[tuple[int, int], ...] = ()   # (pc, map index) of every map ld_imm64
    main_slots: int = 0                          # slots of the entry function before appended subprograms
    kfunc_calls: tuple[tuple[int, str], ...] = ()   # (pc, extern name) of every kfunc call
    invalid: str = ""   # why its code does not decode ("" if it does): the kernel rejects it, not the object
    #: pcs of map ld_imm64 written by hand (no relocation): their ``imm`` is a raw fd number
    #: libbpf passes on as it is, not a map index
    raw_map_loads: tuple[int, ...] = ()
    #: (pc, spec text) of instructions poisoned by an unresolvable CO-RE relocation: libbpf rewrites
    #: the verifier's "invalid func unknown#195896080" there into the relocation's description
    core_poisoned: tuple[tuple[int, str], ...] = ()

    @property
    def prog_type(self) -> ProgType | None:
        return self.section_info.prog_type if self.section_info else None

    @property
    def gpl_compatible(self) -> bool:
        return is_gpl_compatible(self.license)

    @functools.cached_property
    def slot_count(self) -> int:
        return sum(i.slots for i in self.insns)

    @property
    def bytes_xlated(self) -> int:
        return self.slot_count * 8

    @functools.cached_property
    def _line_pcs(self) -> list[int]:
        return [r.pc for r in self.line_info]

    def line_at(self, pc: int) -> LineRecord | None:
        """The line-info record covering ``pc`` (the last one at or before it)."""
        i = bisect.bisect_right(self._line_pcs, pc) - 1
        return self.line_info[i] if i >= 0 else None

    def source_location(self, pc: int) -> SourceLocation | None:
        rec = self.line_at(pc)
        return rec.location if rec else None

    def function_at(self, pc: int) -> str | None:
        best = None
        for f in self.func_info:
            if f.pc <= pc:
                best = f.name
        return best


@dataclass(frozen=True, slots=True)
class SectionSummary:
    index: int
    name: str
    type: str
    size: int
    flags: int


@dataclass(frozen=True, slots=True)
class CodeSection:
    """An executable section as the object holds it (unrelocated), for llvm-objdump-style dumps."""

    name: str
    insns: tuple[Instruction, ...]
    functions: tuple[tuple[int, str], ...]   # (slot, name) of its function and label symbols, sorted
    relocations: tuple[tuple[int, str], ...] = ()   # (slot, symbol name) of each relocation


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    name: str                           # libbpf's object name: file name up to the first "."
    header: ElfHeader
    programs: tuple[Program, ...]
    maps: tuple[MapSpec, ...]
    license: str
    kern_version: int | None
    btf: Spec | None
    btf_ext: Ext | None
    sections: tuple[SectionSummary, ...]
    variables: tuple[Variable, ...] = ()
    code_sections: tuple[CodeSection, ...] = ()
    path: str | None = field(default=None, compare=False)
    externs: tuple[Extern, ...] = ()
    core: CoreReport | None = None               # None: the object has no CO-RE relocations
    target: str = field(default="", compare=False)   # the target it was resolved against (describe())
    # global functions of hidden/internal visibility (``__hidden``, e.g. usdt.bpf.h's bpf_usdt_arg):
    # libbpf marks their BTF FUNC static before loading, so the kernel verifies them as static
    hidden_funcs: frozenset[str] = frozenset()

    @property
    def gpl_compatible(self) -> bool:
        return is_gpl_compatible(self.license)

    def program(self, name: str) -> Program:
        """The program called ``name``; an :class:`ObjectError` listing the programs if none is."""
        for p in self.programs:
            if p.name == name:
                return p
        raise ObjectError(no_such("program", name, (p.name for p in self.programs)), file=self.path)

    def extern(self, name: str) -> Extern:
        for e in self.externs:
            if e.name == name:
                return e
        raise KeyError(name)

    def map(self, name: str) -> MapSpec:
        """The map called ``name``; an :class:`ObjectError` listing the maps if none is."""
        for m in self.maps:
            if m.name == name:
                return m
        raise ObjectError(no_such("map", name, (m.name for m in self.maps)), file=self.path)
