"""ELF -> plain records (the only module that imports pyelftools).

``read_elf(data)`` parses the file once and returns an :class:`ElfImage`: header summary,
sections with their bytes, symbols and relocations, as our own frozen records.  Every
exception pyelftools (or a malformed file) can raise is turned into an ObjectError here.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from bpfbuild.errors import ObjectError

__all__ = ["EM_BPF", "ElfHeader", "ElfImage", "Reloc", "Section", "Symbol", "read_elf"]

EM_BPF = 247
SHT_NOBITS = 8
SHT_RELA = 4
SHT_REL = 9
SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
SHN_UNDEF = 0
SHN_ABS = 0xFFF1
SHN_COMMON = 0xFFF2


@dataclass(frozen=True, slots=True)
class ElfHeader:
    """What `readelf -h` shows that matters for a BPF object."""

    elf_class: str        # "ELF64"
    data: str             # "little endian" / "big endian"
    version: int
    osabi: str
    type: str             # "REL (Relocatable file)"
    machine: str          # "Linux BPF"
    machine_id: int
    entry: int
    flags: int
    section_count: int


@dataclass(frozen=True, slots=True)
class Section:
    index: int
    name: str
    type: int
    type_name: str
    flags: int
    size: int
    link: int
    info: int
    entsize: int
    data: bytes        # b"" for NOBITS (.bss): use size

    @property
    def executable(self) -> bool:
        return bool(self.flags & SHF_EXECINSTR)

    @property
    def nobits(self) -> bool:
        return self.type == SHT_NOBITS


@dataclass(frozen=True, slots=True)
class Symbol:
    index: int
    name: str
    value: int
    size: int
    bind: str          # "STB_GLOBAL", "STB_LOCAL", "STB_WEAK"
    type: str          # "STT_FUNC", "STT_OBJECT", "STT_SECTION", "STT_NOTYPE", ...
    visibility: str    # "STV_DEFAULT", "STV_HIDDEN", ...
    shndx: int         # section index, or SHN_* (UNDEF 0, ABS, COMMON)


@dataclass(frozen=True, slots=True)
class Reloc:
    offset: int
    type: int
    symbol: int
    addend: int | None = None


@dataclass(frozen=True, slots=True)
class ElfImage:
    header: ElfHeader
    little_endian: bool
    sections: tuple[Section, ...]
    symbols: tuple[Symbol, ...]
    relocations: dict[int, tuple[Reloc, ...]]   # target section index -> its relocations

    def section(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None


def _shndx(value: object) -> int:
    if isinstance(value, int):
        return value
    return {"SHN_UNDEF": SHN_UNDEF, "SHN_ABS": SHN_ABS, "SHN_COMMON": SHN_COMMON}.get(str(value), -1)


def read_elf(data: bytes) -> ElfImage:
    """Parse an ELF object from bytes (ObjectError on anything malformed)."""
    if len(data) < 16 or data[:4] != b"\x7fELF":
        raise ObjectError("not an ELF file")
    if data[4] != 2:
        raise ObjectError("not a 64-bit ELF file (BPF objects are ELF64)")
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        return _read(ELFFile(io.BytesIO(data)))
    except (ELFError, OverflowError, ValueError, KeyError, IndexError, struct.error, zlib.error) as exc:
        # What pyelftools raises on malformed input (its own errors; seeks and slices past the
        # end; bad string tables; an SHF_COMPRESSED section that does not inflate).  Anything else -- a TypeError, an AttributeError -- is our
        # bug and stays a traceback instead of being reported as a malformed file.
        text = str(exc).strip() or type(exc).__name__
        raise ObjectError(f"malformed ELF: {text}") from exc


def _read(elf: object) -> ElfImage:
    from elftools.elf.relocation import RelocationSection
    from elftools.elf.sections import SymbolTableSection

    h = elf.header  # type: ignore[attr-defined]
    machine_id = h["e_machine"]
    if isinstance(machine_id, str):
        machine_id = EM_BPF if machine_id == "EM_BPF" else -1
    if machine_id != EM_BPF:
        raise ObjectError(f"not a BPF object: ELF machine is {h['e_machine']} (want EM_BPF, 247)")
    little = elf.little_endian  # type: ignore[attr-defined]
    header = ElfHeader(
        elf_class="ELF64",
        data="2's complement, little endian" if little else "2's complement, big endian",
        version=int(h["e_ident"]["EI_VERSION"] == "EV_CURRENT"),
        osabi=str(h["e_ident"]["EI_OSABI"]).replace("ELFOSABI_", ""),
        type={"ET_REL": "REL (Relocatable file)", "ET_EXEC": "EXEC (Executable file)",
              "ET_DYN": "DYN (Shared object file)"}.get(str(h["e_type"]), str(h["e_type"])),
        machine="Linux BPF",
        machine_id=EM_BPF,
        entry=int(h["e_entry"]),
        flags=int(h["e_flags"]),
        section_count=int(h["e_shnum"]),
    )
    if elf.num_sections() == 0:  # type: ignore[attr-defined]
        raise ObjectError("the object has no section headers (e_shnum is 0)")
    sections: list[Section] = []
    symbols: tuple[Symbol, ...] = ()
    relocations: dict[int, tuple[Reloc, ...]] = {}
    for index, sec in enumerate(elf.iter_sections()):  # type: ignore[attr-defined]
        sh = sec.header
        stype = sh["sh_type"]
        type_id = _section_type(stype)
        nobits = type_id == SHT_NOBITS
        if int(sh["sh_flags"]) & 0x800 and not nobits and index != 0:   # SHF_COMPRESSED: never inflated
            raise ObjectError("compressed sections (SHF_COMPRESSED) are not supported", section=sec.name)
        body = b"" if nobits or index == 0 else sec.data()
        if not nobits and index != 0 and len(body) != sh["sh_size"]:
            raise ObjectError("section data runs past the end of the file", section=sec.name)
        sections.append(Section(index, sec.name, int(type_id), str(stype), int(sh["sh_flags"]), int(sh["sh_size"]),
                                int(sh["sh_link"]), int(sh["sh_info"]), int(sh["sh_entsize"]), bytes(body)))
        if isinstance(sec, SymbolTableSection) and not symbols:
            symbols = tuple(
                Symbol(i, sym.name, int(sym["st_value"]), int(sym["st_size"]), str(sym["st_info"]["bind"]),
                       str(sym["st_info"]["type"]), str(sym["st_other"]["visibility"]), _shndx(sym["st_shndx"]))
                for i, sym in enumerate(sec.iter_symbols()))
        elif isinstance(sec, RelocationSection):
            target = int(sh["sh_info"])
            relocations[target] = relocations.get(target, ()) + _relocs(body, type_id == SHT_RELA, little, sec.name)
    return ElfImage(header, little, tuple(sections), symbols, relocations)


def _relocs(body: bytes, rela: bool, little: bool, name: str) -> tuple[Reloc, ...]:
    """Elf64_Rel / Elf64_Rela entries, unpacked directly (pyelftools' per-entry parsing is slow on
    the thousands of .BTF.ext relocations a CO-RE object carries)."""
    size = 24 if rela else 16
    if len(body) % size:
        raise ObjectError(f"relocation section size {len(body)} is not a multiple of {size}", section=name)
    order = "<" if little else ">"
    if rela:
        return tuple(Reloc(off, info & 0xFFFFFFFF, info >> 32, addend)
                     for off, info, addend in struct.iter_unpack(order + "QQq", body))
    return tuple(Reloc(off, info & 0xFFFFFFFF, info >> 32, None) for off, info in struct.iter_unpack(order + "QQ", body))


def _section_type(stype: object) -> int:
    """sh_type as a number: pyelftools names the types it knows (SHT_LOUSER, SHT_GNU_HASH...)."""
    if isinstance(stype, int):
        return stype
    if stype in _SHT:
        return _SHT[str(stype)]
    from elftools.elf.enums import ENUM_SH_TYPE_BASE

    value = ENUM_SH_TYPE_BASE.get(str(stype))
    return value if isinstance(value, int) else -1


_SHT = {"SHT_NULL": 0, "SHT_PROGBITS": 1, "SHT_SYMTAB": 2, "SHT_STRTAB": 3, "SHT_RELA": 4, "SHT_HASH": 5,
        "SHT_DYNAMIC": 6, "SHT_NOTE": 7, "SHT_NOBITS": 8, "SHT_REL": 9, "SHT_SHLIB": 10, "SHT_DYNSYM": 11,
        "SHT_INIT_ARRAY": 14, "SHT_FINI_ARRAY": 15, "SHT_PREINIT_ARRAY": 16, "SHT_GROUP": 17,
        "SHT_SYMTAB_SHNDX": 18}
