"""Wire format of ``.BTF`` and ``.BTF.ext`` (private to :mod:`bpfbuild.btf`).

Layouts are those of the kernel's ``include/uapi/linux/btf.h`` and
``Documentation/bpf/btf.rst``.  Nothing here leaves the package: :mod:`.spec` and
:mod:`.ext` turn these raw views into the model of :mod:`.types`.

The type section is read once into an ``array('I')`` of 32-bit words in host order
(every record is a whole number of words), so indexing and decoding are list
look-ups instead of ``struct`` calls.  Every failure is a :class:`BTFError` with the
section name and the byte offset of the bad field.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass
from typing import Literal

from bpfbuild.errors import BTFError

BTF_MAGIC = 0xEB9F
BTF_VERSION = 1
BTF_SECTION = ".BTF"
EXT_SECTION = ".BTF.ext"

#: Largest type id and string offset the kernel accepts (``BTF_MAX_TYPE``, ``BTF_MAX_NAME_OFFSET``).
MAX_TYPE_ID = 0x000FFFFF
MAX_NAME_OFFSET = 0x00FFFFFF

#: Bits of ``btf_type.info`` that may be set: vlen (0-15), kind (24-28), kind_flag (31).
INFO_MASK = 0x9F00FFFF
#: Kinds on the wire run from INT (1) to ENUM64 (19).
MAX_KIND = 19

# Words that follow the 3-word ``btf_type`` header: a fixed part per kind plus a
# per-vlen part (members, enumerators, parameters, section entries).  Index = kind.
FIXED_WORDS = (0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0)
VLEN_WORDS = (0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3)

ByteOrder = Literal["little", "big"]

_HEADER_SIZE = 24  # struct btf_header
_EXT_HEADER_MIN = 24  # struct btf_ext_header up to line_info_len
_EXT_HEADER_CORE = 32  # ... with core_relo_off/len


def byte_order(data: bytes, section: str) -> ByteOrder:
    """Endianness from the magic (``0xeB9F`` as a u16)."""
    if len(data) < 2:
        raise BTFError("too short for a header", section=section, offset=0)
    if data[0] == 0x9F and data[1] == 0xEB:
        return "little"
    if data[0] == 0xEB and data[1] == 0x9F:
        return "big"
    raise BTFError(f"bad magic {data[0]:02x}{data[1]:02x} (want 0xeb9f)", section=section, offset=0)


@dataclass(frozen=True, slots=True)
class Header:
    """``struct btf_header``; offsets are relative to the end of the header (``hdr_len``)."""

    byteorder: ByteOrder
    hdr_len: int
    type_off: int
    type_len: int
    str_off: int
    str_len: int

    @property
    def types_start(self) -> int:
        return self.hdr_len + self.type_off

    @property
    def strings_start(self) -> int:
        return self.hdr_len + self.str_off


def _preamble(data: bytes, section: str, min_len: int) -> tuple[ByteOrder, str, int]:
    """The start both headers share (``.BTF`` and ``.BTF.ext``): magic (the byte order),
    version, flags and a header length of at least ``min_len`` within ``data``.  Returns the
    byte order, its struct prefix and the header length."""
    order = byte_order(data, section)
    if len(data) < 8:
        raise BTFError("truncated header", section=section, offset=0)
    prefix = "<" if order == "little" else ">"
    _magic, version, flags, hdr_len = struct.unpack_from(prefix + "HBBI", data, 0)
    if version != BTF_VERSION:
        raise BTFError(f"unsupported version {version}", section=section, offset=2)
    if flags:
        raise BTFError(f"unsupported flags {flags:#x}", section=section, offset=3)
    if hdr_len < min_len:
        raise BTFError(f"header length {hdr_len} < {min_len}", section=section, offset=4)
    if hdr_len > len(data):
        raise BTFError(f"header length {hdr_len} past the end ({len(data)} bytes)", section=section, offset=4)
    return order, prefix, hdr_len


def parse_header(data: bytes) -> Header:
    """Check and return the ``.BTF`` header: magic, version, flags, section bounds."""
    order, prefix, hdr_len = _preamble(data, BTF_SECTION, _HEADER_SIZE)
    if any(data[_HEADER_SIZE:hdr_len]):
        raise BTFError("unknown non-zero header fields", section=BTF_SECTION, offset=_HEADER_SIZE)
    type_off, type_len, str_off, str_len = struct.unpack_from(prefix + "4I", data, 8)
    body = len(data) - hdr_len
    if type_off % 4:
        raise BTFError(f"type section offset {type_off} not 4-byte aligned", section=BTF_SECTION, offset=8)
    if type_len % 4:
        raise BTFError(f"type section length {type_len} not a multiple of 4", section=BTF_SECTION, offset=12)
    if type_off + type_len > body:
        raise BTFError(f"type section [{type_off}, +{type_len}) past the end ({body} bytes)",
                       section=BTF_SECTION, offset=12)
    if str_off + str_len > body:
        raise BTFError(f"string section [{str_off}, +{str_len}) past the end ({body} bytes)",
                       section=BTF_SECTION, offset=20)
    if type_len and str_len and type_off < str_off + str_len and str_off < type_off + type_len:
        raise BTFError("type and string sections overlap", section=BTF_SECTION, offset=16)
    if str_len > MAX_NAME_OFFSET + 1:
        raise BTFError(f"string section too large ({str_len} bytes)", section=BTF_SECTION, offset=20)
    return Header(order, hdr_len, type_off, type_len, str_off, str_len)


class StringTable:
    """The NUL-terminated strings of a ``.BTF`` section, decoded on demand and cached.

    ``base_len`` is the size of the base BTF's string space (split BTF): offsets below
    it belong to ``base``; own offsets start there.
    """

    __slots__ = ("_base", "_base_len", "_cache", "_data", "_start")

    def __init__(self, data: bytes, start: int, length: int, *, base: StringTable | None,
                 base_len: int) -> None:
        self._data = bytes(data[start:start + length])
        self._start = start
        self._base = base
        self._base_len = base_len
        self._cache: dict[int, str] = {}
        if length:
            if self._data[-1] != 0:
                raise BTFError("string section does not end with NUL", section=BTF_SECTION,
                               offset=start + length - 1)
            if base is None and self._data[0] != 0:
                raise BTFError("string section does not start with an empty string",
                               section=BTF_SECTION, offset=start)
        elif base is None:
            raise BTFError("empty string section", section=BTF_SECTION, offset=start)

    @property
    def cache(self) -> dict[int, str]:
        """Strings decoded so far by offset (shared, for a fast path in the decoder)."""
        return self._cache

    @property
    def total_len(self) -> int:
        """Size of the whole string space this table ends (base strings included)."""
        return self._base_len + len(self._data)

    def get(self, offset: int, *, section: str = BTF_SECTION, where: int | None = None) -> str:
        """The string at ``offset``; ``where`` is the byte offset of the referring field."""
        cached = self._cache.get(offset)
        if cached is not None:
            return cached
        if offset < self._base_len and self._base is not None:
            text = self._base.get(offset, section=section, where=where)
            self._cache[offset] = text
            return text
        local = offset - self._base_len
        if not 0 <= local < len(self._data):
            raise BTFError(f"string offset {offset} out of range (string space is {self.total_len} bytes)",
                           section=section, offset=where)
        end = self._data.find(b"\0", local)  # never -1: the table ends with NUL
        try:
            text = self._data[local:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BTFError(f"string at offset {offset} is not UTF-8", section=section,
                           offset=self._start + local) from exc
        self._cache[offset] = text
        return text


    def offsets_named(self, name: str, flavour_sep: str = "") -> set[int]:
        """Offsets (in this table's numbering) of ``name`` and, with ``flavour_sep``, of every
        string that starts with ``name + flavour_sep``; found by byte search, nothing decoded."""
        out: set[int] = set()
        if self._base is not None:
            out |= self._base.offsets_named(name, flavour_sep)
        data = self._data
        raw = name.encode("utf-8")
        sep = flavour_sep.encode("utf-8")
        needle = b"\0" + raw
        at = data.find(needle)
        if self._base is not None and data.startswith(raw):   # split BTF: own strings start at 0
            at = -1 if at < 0 else at
            after = len(raw)
            if data[after:after + 1] == b"\0" or (sep and data.startswith(sep, after)):
                out.add(self._base_len)
        while at >= 0:
            start = at + 1
            after = start + len(raw)
            if data[after:after + 1] == b"\0" or (sep and data.startswith(sep, after)):
                out.add(self._base_len + start)
            at = data.find(needle, at + 1)
        return out


class TypeSection:
    """The type records as host-order words plus the word index of each record.

    ``offsets[i]`` is where the record of id ``first_id + i`` starts.
    """

    __slots__ = ("byte_start", "offsets", "words")

    def __init__(self, words: array[int], offsets: list[int], byte_start: int) -> None:
        self.words = words
        self.offsets = offsets
        self.byte_start = byte_start

    def byte_offset(self, word: int) -> int:
        """Byte offset within the ``.BTF`` section of a word of the type section."""
        return self.byte_start + 4 * word


def index_types(data: bytes, header: Header, first_id: int) -> TypeSection:
    """One pass over the type section: find where each record starts, check its length."""
    start = header.types_start
    words: array[int] = array("I")
    if words.itemsize != 4:  # pragma: no cover - every platform CPython runs on today
        words = array("L")
    words.frombytes(data[start:start + header.type_len])
    if header.byteorder != sys.byteorder:
        words.byteswap()
    offsets: list[int] = []
    append = offsets.append
    fixed, per_vlen = FIXED_WORDS, VLEN_WORDS
    n = len(words)
    i = 0
    while i < n:
        if n - i < 3:
            raise BTFError("truncated type record", section=BTF_SECTION, offset=start + 4 * i)
        info = words[i + 1]
        kind = (info >> 24) & 0x1F
        if info & ~INFO_MASK or not 0 < kind <= MAX_KIND:
            raise BTFError(f"invalid type info {info:#010x} (kind {kind})", section=BTF_SECTION,
                           offset=start + 4 * i + 4)
        append(i)
        i += 3 + fixed[kind] + per_vlen[kind] * (info & 0xFFFF)
    if i != n:
        last = offsets[-1]
        raise BTFError(f"type record [{first_id + len(offsets) - 1}] runs past the type section "
                       f"(vlen {words[last + 1] & 0xFFFF})", section=BTF_SECTION, offset=start + 4 * last)
    if first_id + len(offsets) - 1 > MAX_TYPE_ID:
        raise BTFError(f"too many types ({first_id + len(offsets) - 1} > {MAX_TYPE_ID})",
                       section=BTF_SECTION, offset=start)
    return TypeSection(words, offsets, start)


# -- .BTF.ext ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtHeader:
    """``struct btf_ext_header``; info offsets are relative to the end of the header."""

    byteorder: ByteOrder
    hdr_len: int
    func_info: tuple[int, int]
    line_info: tuple[int, int]
    core_relo: tuple[int, int]


@dataclass(frozen=True, slots=True)
class ExtBlock:
    """One ``btf_ext_info_sec``: records of ``rec_size`` bytes for one ELF section."""

    sec_name_off: int
    name_field: int  # byte offset of sec_name_off, for errors
    first_record: int  # byte offset of the first record
    count: int
    rec_size: int


def parse_ext_header(data: bytes) -> ExtHeader:
    """Check and return the ``.BTF.ext`` header: magic, version, flags, the bounds of its parts."""
    order, prefix, hdr_len = _preamble(data, EXT_SECTION, _EXT_HEADER_MIN)
    fi_off, fi_len, li_off, li_len = struct.unpack_from(prefix + "4I", data, 8)
    cr_off = cr_len = 0
    if hdr_len >= _EXT_HEADER_CORE:
        cr_off, cr_len = struct.unpack_from(prefix + "2I", data, 24)
    body = len(data) - hdr_len
    for what, off, length, field in (("func_info", fi_off, fi_len, 8), ("line_info", li_off, li_len, 16),
                                     ("core_relo", cr_off, cr_len, 24)):
        if off % 4:
            raise BTFError(f"{what} offset {off} not 4-byte aligned", section=EXT_SECTION, offset=field)
        if off + length > body:
            raise BTFError(f"{what} [{off}, +{length}) past the end ({body} bytes)",
                           section=EXT_SECTION, offset=field)
    return ExtHeader(order, hdr_len, (fi_off, fi_len), (li_off, li_len), (cr_off, cr_len))


def ext_blocks(data: bytes, header: ExtHeader, part: tuple[int, int], min_rec_size: int,
               what: str) -> list[ExtBlock]:
    """Split one info part (func_info, line_info or core_relo) into per-section blocks.

    Layout: ``u32 rec_size`` then repeated ``{u32 sec_name_off; u32 num_info; records}``.
    """
    off, length = part
    if not length:
        return []
    prefix = "<" if header.byteorder == "little" else ">"
    pos = header.hdr_len + off
    end = pos + length
    if length < 4:
        raise BTFError(f"{what} too short for a record size", section=EXT_SECTION, offset=pos)
    (rec_size,) = struct.unpack_from(prefix + "I", data, pos)
    if rec_size < min_rec_size or rec_size % 4:
        raise BTFError(f"{what} record size {rec_size} invalid (minimum {min_rec_size}, multiple of 4)",
                       section=EXT_SECTION, offset=pos)
    pos += 4
    blocks: list[ExtBlock] = []
    while pos < end:
        if end - pos < 8:
            raise BTFError(f"truncated {what} section header", section=EXT_SECTION, offset=pos)
        name_off, count = struct.unpack_from(prefix + "2I", data, pos)
        if count == 0:
            raise BTFError(f"{what} section with no records", section=EXT_SECTION, offset=pos + 4)
        if count * rec_size > end - pos - 8:
            raise BTFError(f"{what}: {count} records of {rec_size} bytes run past the end",
                           section=EXT_SECTION, offset=pos + 4)
        blocks.append(ExtBlock(name_off, pos, pos + 8, count, rec_size))
        pos += 8 + count * rec_size
    return blocks


def ext_records(data: bytes, header: ExtHeader, block: ExtBlock, nwords: int) -> list[tuple[int, ...]]:
    """The first ``nwords`` u32 fields of each record of a block."""
    fmt = ("<" if header.byteorder == "little" else ">") + "I" * nwords
    first, size = block.first_record, block.rec_size
    return [struct.unpack_from(fmt, data, first + i * size) for i in range(block.count)]
