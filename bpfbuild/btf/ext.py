"""``.BTF.ext``: function info, line info and CO-RE relocations per ELF section.

Instruction offsets are in bytes on the wire (relative to the start of the code
section); every record also gives ``slot`` = offset // 8, the instruction index
llvm-objdump and the verifier print.  Strings (section names, file names, source
lines, CO-RE access strings) live in the string section of the ``.BTF`` they come
with, so parsing needs that :class:`~bpfbuild.btf.spec.Spec`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bpfbuild.btf import wire
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import Kind
from bpfbuild.errors import BTFError
from bpfbuild.location import SourceLocation

__all__ = ["CoreRelo", "CoreReloKind", "Ext", "FuncInfo", "LineInfo"]

_INSN_SIZE = 8


class CoreReloKind(enum.IntEnum):
    """What a CO-RE relocation asks of the target kernel (``enum bpf_core_relo_kind``)."""

    FIELD_BYTE_OFFSET = 0
    FIELD_BYTE_SIZE = 1
    FIELD_EXISTS = 2
    FIELD_SIGNED = 3
    FIELD_LSHIFT_U64 = 4
    FIELD_RSHIFT_U64 = 5
    TYPE_ID_LOCAL = 6
    TYPE_ID_TARGET = 7
    TYPE_EXISTS = 8
    TYPE_SIZE = 9
    ENUMVAL_EXISTS = 10
    ENUMVAL_VALUE = 11
    TYPE_MATCHES = 12

    @property
    def label(self) -> str:
        """Lower-case name, e.g. ``field_byte_offset``."""
        return self.name.lower()

    @property
    def is_field(self) -> bool:
        return self <= CoreReloKind.FIELD_RSHIFT_U64

    @property
    def is_type(self) -> bool:
        return self in (CoreReloKind.TYPE_ID_LOCAL, CoreReloKind.TYPE_ID_TARGET, CoreReloKind.TYPE_EXISTS,
                        CoreReloKind.TYPE_SIZE, CoreReloKind.TYPE_MATCHES)

    @property
    def is_enumval(self) -> bool:
        return self in (CoreReloKind.ENUMVAL_EXISTS, CoreReloKind.ENUMVAL_VALUE)


@dataclass(frozen=True, slots=True)
class FuncInfo:
    """The function (FUNC type id) starting at ``insn_off`` bytes into its section."""

    insn_off: int
    type_id: int

    @property
    def slot(self) -> int:
        return self.insn_off // _INSN_SIZE


@dataclass(frozen=True, slots=True)
class LineInfo:
    """Source position of the instruction at ``insn_off`` bytes; ``line_text`` is the source line.

    ``line`` and ``column`` are 1-based; ``line`` 0 (and empty text) marks code with no source line.
    """

    insn_off: int
    file_name: str
    line_text: str
    line: int
    column: int

    @property
    def slot(self) -> int:
        return self.insn_off // _INSN_SIZE

    @property
    def location(self) -> SourceLocation:
        """Where in the source (line 0: code the compiler made up, with no source line)."""
        return SourceLocation(self.file_name, self.line, self.column)


@dataclass(frozen=True, slots=True)
class CoreRelo:
    """A CO-RE relocation of the instruction at ``insn_off`` bytes.

    ``type_id`` is the local (program BTF) root type; ``access`` the raw access string
    (``"0:1:2"``) and ``accessors`` its numbers.
    """

    insn_off: int
    type_id: int
    access: str
    kind: CoreReloKind

    @property
    def slot(self) -> int:
        return self.insn_off // _INSN_SIZE

    @property
    def accessors(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.access.split(":"))


@dataclass(frozen=True, slots=True, eq=True)
class Ext:
    """The parsed ``.BTF.ext``: per ELF section name, records in file order."""

    func_info: Mapping[str, tuple[FuncInfo, ...]]
    line_info: Mapping[str, tuple[LineInfo, ...]]
    core_relos: Mapping[str, tuple[CoreRelo, ...]]

    @property
    def sections(self) -> tuple[str, ...]:
        """Every section named by any part, in first-seen order."""
        seen: dict[str, None] = {}
        for part in (self.func_info, self.line_info, self.core_relos):
            seen.update(dict.fromkeys(part))
        return tuple(seen)

    def line_at(self, section: str, slot: int) -> LineInfo | None:
        """The line info in effect at an instruction slot (the last one at or before it)."""
        best: LineInfo | None = None
        for info in self.line_info.get(section, ()):
            if info.slot <= slot and (best is None or info.slot >= best.slot):
                best = info
        return best

    @classmethod
    def from_bytes(cls, data: bytes, strings_from: Spec) -> Ext:
        """Parse ``.BTF.ext``; ``strings_from`` is the spec of the ``.BTF`` it belongs to."""
        data = bytes(data)
        header = wire.parse_ext_header(data)
        sec = wire.EXT_SECTION

        def string(offset: int, where: int) -> str:
            return strings_from.string_at(offset, section=sec, where=where)

        def insn_off(value: int, where: int) -> int:
            if value % _INSN_SIZE:
                raise BTFError(f"instruction offset {value} is not a multiple of {_INSN_SIZE}",
                               section=sec, offset=where)
            return value

        def type_id(value: int, where: int, want: Kind | None) -> int:
            if value not in strings_from:
                raise BTFError(f"type id {value} out of range (max {len(strings_from) - 1})",
                               section=sec, offset=where)
            if want is not None and strings_from.kind_of(value) != want:
                raise BTFError(f"type [{value}] is {strings_from.kind_of(value).name}, not {want.name}",
                               section=sec, offset=where)
            return value

        func_info: dict[str, tuple[FuncInfo, ...]] = {}
        for block in wire.ext_blocks(data, header, header.func_info, 8, "func_info"):
            recs = wire.ext_records(data, header, block, 2)
            at = [block.first_record + i * block.rec_size for i in range(block.count)]
            name = string(block.sec_name_off, block.name_field)
            funcs = tuple(FuncInfo(insn_off(off, where), type_id(tid, where + 4, Kind.FUNC))
                          for (off, tid), where in zip(recs, at))
            func_info[name] = func_info.get(name, ()) + funcs

        line_info: dict[str, tuple[LineInfo, ...]] = {}
        for block in wire.ext_blocks(data, header, header.line_info, 16, "line_info"):
            recs = wire.ext_records(data, header, block, 4)
            name = string(block.sec_name_off, block.name_field)
            lines = []
            for i, (off, file_off, line_off, line_col) in enumerate(recs):
                where = block.first_record + i * block.rec_size
                lines.append(LineInfo(insn_off(off, where), string(file_off, where + 4),
                                      string(line_off, where + 8), line_col >> 10, line_col & 0x3FF))
            line_info[name] = line_info.get(name, ()) + tuple(lines)

        core_relos: dict[str, tuple[CoreRelo, ...]] = {}
        for block in wire.ext_blocks(data, header, header.core_relo, 16, "core_relo"):
            recs = wire.ext_records(data, header, block, 4)
            name = string(block.sec_name_off, block.name_field)
            relos = []
            for i, (off, tid, access_off, kind) in enumerate(recs):
                where = block.first_record + i * block.rec_size
                if kind not in CoreReloKind._value2member_map_:
                    raise BTFError(f"unknown CO-RE relocation kind {kind}", section=sec, offset=where + 12)
                access = string(access_off, where + 8)
                parts = access.split(":")
                if not all(part.isascii() and part.isdigit() for part in parts):
                    raise BTFError(f"invalid CO-RE access string {access!r}", section=sec, offset=where + 8)
                relos.append(CoreRelo(insn_off(off, where), type_id(tid, where + 4, None), access,
                                      CoreReloKind(kind)))
            core_relos[name] = core_relos.get(name, ()) + tuple(relos)

        return cls(MappingProxyType(func_info), MappingProxyType(line_info), MappingProxyType(core_relos))
