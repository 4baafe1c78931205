"""A small test-only writer of ``.BTF`` and ``.BTF.ext`` blobs (either byte order).

It knows the wire layout independently of :mod:`bpfbuild.btf.wire` so the tests can
build every kind by hand, plus broken variants (``raw``/``header`` let a test put any
value anywhere).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

KINDS = {
    "INT": 1, "PTR": 2, "ARRAY": 3, "STRUCT": 4, "UNION": 5, "ENUM": 6, "FWD": 7, "TYPEDEF": 8,
    "VOLATILE": 9, "CONST": 10, "RESTRICT": 11, "FUNC": 12, "FUNC_PROTO": 13, "VAR": 14, "DATASEC": 15,
    "FLOAT": 16, "DECL_TAG": 17, "TYPE_TAG": 18, "ENUM64": 19,
}


class BTFWriter:
    """Collects type records; ``add_*`` return the new id.  ``base`` makes split BTF."""

    def __init__(self, byteorder: str = "little", base: BTFWriter | None = None) -> None:
        self.byteorder = byteorder
        self.base = base
        self.strings = bytearray() if base is not None else bytearray(b"\0")
        self._offsets: dict[str, int] = {} if base is not None else {"": 0}
        self.records: list[list[int]] = []
        self.str_base: int = len(base.strings) + base.str_base if base is not None else 0
        self.first_id = base.next_id if base is not None else 1

    @property
    def next_id(self) -> int:
        return self.first_id + len(self.records)

    def s(self, text: str) -> int:
        """Offset of a string (added on first use)."""
        if text == "" and self.base is not None:
            return 0
        if text not in self._offsets:
            self._offsets[text] = self.str_base + len(self.strings)
            self.strings += text.encode() + b"\0"
        return self._offsets[text]

    def raw(self, kind: int, name: str | int = "", vlen: int = 0, kflag: int = 0, size_or_type: int = 0,
            extra: Iterable[int] = ()) -> int:
        name_off = name if isinstance(name, int) else self.s(name)
        info = (kflag << 31) | (kind << 24) | vlen
        self.records.append([name_off, info, size_or_type, *extra])
        return self.next_id - 1

    # one helper per kind

    def int_(self, name: str, size: int, encoding: int = 0, bits: int | None = None, offset: int = 0) -> int:
        bits = 8 * size if bits is None else bits
        return self.raw(1, name, size_or_type=size, extra=[(encoding << 24) | (offset << 16) | bits])

    def ptr(self, target: int, name: str = "") -> int:
        return self.raw(2, name, size_or_type=target)

    def array(self, elem: int, index: int, nelems: int) -> int:
        return self.raw(3, extra=[elem, index, nelems])

    def _composite(self, kind: int, name: str, size: int,
                   members: Sequence[tuple[str, int, int] | tuple[str, int, int, int]]) -> int:
        kflag = int(any(len(m) == 4 and m[3] for m in members))
        extra: list[int] = []
        for m in members:
            bitfield = m[3] if len(m) == 4 else 0  # type: ignore[misc]
            offset = (bitfield << 24) | m[2] if kflag else m[2]
            extra += [self.s(m[0]), m[1], offset]
        return self.raw(kind, name, len(members), kflag, size, extra)

    def struct(self, name: str, size: int, members: Sequence[tuple[str, int, int] | tuple[str, int, int, int]]
               ) -> int:
        return self._composite(4, name, size, members)

    def union(self, name: str, size: int, members: Sequence[tuple[str, int, int] | tuple[str, int, int, int]]
              ) -> int:
        return self._composite(5, name, size, members)

    def enum(self, name: str, size: int, values: Sequence[tuple[str, int]], signed: bool = False) -> int:
        extra: list[int] = []
        for vname, value in values:
            extra += [self.s(vname), value & 0xFFFFFFFF]
        return self.raw(6, name, len(values), int(signed), size, extra)

    def enum64(self, name: str, size: int, values: Sequence[tuple[str, int]], signed: bool = False) -> int:
        extra: list[int] = []
        for vname, value in values:
            value &= (1 << 64) - 1
            extra += [self.s(vname), value & 0xFFFFFFFF, value >> 32]
        return self.raw(19, name, len(values), int(signed), size, extra)

    def fwd(self, name: str, union: bool = False) -> int:
        return self.raw(7, name, kflag=int(union))

    def typedef(self, name: str, target: int) -> int:
        return self.raw(8, name, size_or_type=target)

    def volatile(self, target: int) -> int:
        return self.raw(9, size_or_type=target)

    def const(self, target: int) -> int:
        return self.raw(10, size_or_type=target)

    def restrict(self, target: int) -> int:
        return self.raw(11, size_or_type=target)

    def func(self, name: str, proto: int, linkage: int = 1) -> int:
        return self.raw(12, name, vlen=linkage, size_or_type=proto)

    def func_proto(self, ret: int, params: Sequence[tuple[str, int]], variadic: bool = False) -> int:
        extra: list[int] = []
        for pname, ptype in params:
            extra += [self.s(pname), ptype]
        if variadic:
            extra += [0, 0]
        return self.raw(13, "", len(params) + int(variadic), size_or_type=ret, extra=extra)

    def var(self, name: str, target: int, linkage: int = 1) -> int:
        return self.raw(14, name, size_or_type=target, extra=[linkage])

    def datasec(self, name: str, size: int, entries: Sequence[tuple[int, int, int]]) -> int:
        extra: list[int] = []
        for entry in entries:
            extra += list(entry)
        return self.raw(15, name, len(entries), size_or_type=size, extra=extra)

    def float_(self, name: str, size: int) -> int:
        return self.raw(16, name, size_or_type=size)

    def decl_tag(self, name: str, target: int, component_idx: int = -1, attribute: bool = False) -> int:
        return self.raw(17, name, kflag=int(attribute), size_or_type=target,
                        extra=[component_idx & 0xFFFFFFFF])

    def type_tag(self, name: str, target: int, attribute: bool = False) -> int:
        return self.raw(18, name, kflag=int(attribute), size_or_type=target)

    # output

    def type_bytes(self) -> bytes:
        order = "<" if self.byteorder == "little" else ">"
        return b"".join(struct.pack(f"{order}{len(r)}I", *r) for r in self.records)

    def to_bytes(self, *, strings_first: bool = False, hdr_len: int = 24, magic: int = 0xEB9F,
                 version: int = 1, flags: int = 0) -> bytes:
        order = "<" if self.byteorder == "little" else ">"
        types, strings = self.type_bytes(), bytes(self.strings)
        if strings_first:
            str_off, type_off = 0, (len(strings) + 3) & ~3
            body = strings + b"\0" * (type_off - len(strings)) + types
        else:
            type_off, str_off = 0, len(types)
            body = types + strings
        header = struct.pack(f"{order}HBBI4I", magic, version, flags, hdr_len, type_off, len(types), str_off,
                             len(strings))
        return header + b"\0" * (hdr_len - 24) + body


def ext_bytes(btf: BTFWriter, *, func_info: dict[str, list[tuple[int, int]]] | None = None,
              line_info: dict[str, list[tuple[int, str, str, int, int]]] | None = None,
              core_relos: dict[str, list[tuple[int, int, str, int]]] | None = None,
              rec_sizes: tuple[int, int, int] = (8, 16, 16), with_core: bool = True) -> bytes:
    """A ``.BTF.ext`` whose strings go into ``btf`` (so call this before ``btf.to_bytes()``)."""
    order = "<" if btf.byteorder == "little" else ">"

    def part(rec_size: int, sections: dict[str, list[list[int]]]) -> bytes:
        if not sections:
            return b""
        out = struct.pack(f"{order}I", rec_size)
        for name, recs in sections.items():
            out += struct.pack(f"{order}2I", btf.s(name), len(recs))
            for rec in recs:
                packed = struct.pack(f"{order}{len(rec)}I", *rec)
                out += packed + b"\0" * (rec_size - len(packed))
        return out

    fi = part(rec_sizes[0], {k: [list(r) for r in v] for k, v in (func_info or {}).items()})
    li = part(rec_sizes[1], {k: [[off, btf.s(f), btf.s(text), (line << 10) | col]
                                 for off, f, text, line, col in v]
                             for k, v in (line_info or {}).items()})
    cr = part(rec_sizes[2], {k: [[off, tid, btf.s(acc), kind] for off, tid, acc, kind in v]
                             for k, v in (core_relos or {}).items()})
    hdr_len = 32 if with_core else 24
    fields = [0, len(fi), len(fi), len(li)] + ([len(fi) + len(li), len(cr)] if with_core else [])
    header = struct.pack(f"{order}HBBI{len(fields)}I", 0xEB9F, 1, 0, hdr_len, *fields)
    return header + fi + li + (cr if with_core else b"")
