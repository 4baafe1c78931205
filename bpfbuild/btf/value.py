"""Bytes typed by BTF, as bpftool's btf dumper shows them (JSON-able Python values).

``btf_value(spec, type_id, data)``: ints (bitfields, bools, enums by name), char arrays that
hold a C string as ``str``, arrays as lists, structs/unions as dicts, pointers as hex text.
"""

from __future__ import annotations

import struct
from typing import Any

from bpfbuild.btf.spec import Spec
from bpfbuild.errors import BTFError

__all__ = ["btf_value"]


def _is_printable_string(raw: bytes) -> bool:
    end = raw.find(b"\0")
    if end < 0:
        return False
    body = raw[:end]
    return all(0x20 <= b < 0x7F for b in body)


#: Nesting deeper than this is a cycle or a bomb (the kernel resolves at most 32 levels).
MAX_DEPTH = 64
#: Elements shown of one zero-sized-element array (nothing bounds its count by the data).
_MAX_EMPTY_ELEMS = 64


def btf_value(spec: Spec, type_id: int, data: bytes, *, plain: bool = True) -> Any:
    """``data`` typed by BTF as bpftool's btf_dumper shows it (a JSON-able value).

    BTFError (one line) for a type that refers back to itself or nests past :data:`MAX_DEPTH`.
    """
    try:
        return _value(spec, type_id, data, plain, 0)
    except RecursionError:
        raise BTFError(f"type [{type_id}] nests too deeply to show", section=".BTF") from None


def _value(spec: Spec, type_id: int, data: bytes, plain: bool, depth: int) -> Any:
    from bpfbuild.btf import types as bt

    if depth > MAX_DEPTH:
        raise BTFError(f"type [{type_id}] nests more than {MAX_DEPTH} levels deep (a type cycle?)", section=".BTF")

    def btf_value(spec: Spec, type_id: int, data: bytes, *, plain: bool) -> Any:
        return _value(spec, type_id, data, plain, depth + 1)

    t = spec.type(type_id)
    match t:
        case bt.Typedef() | bt.Const() | bt.Volatile() | bt.Restrict() | bt.TypeTag():
            return btf_value(spec, t.type, data, plain=plain)
        case bt.Int():
            raw = data[: t.size]
            if t.is_bool:
                return bool(int.from_bytes(raw, "little"))
            value = int.from_bytes(raw, "little", signed=t.signed)
            if t.bits and (t.offset or t.bits < 8 * t.size):
                value = (int.from_bytes(raw, "little") >> t.offset) & ((1 << t.bits) - 1)
            if t.size > 8:
                return f"0x{int.from_bytes(raw, 'little'):x}"
            return value
        case bt.Enum() | bt.Enum64():
            value = int.from_bytes(data[: t.size], "little", signed=t.signed)
            for ev in t.values:
                if ev.value == value:
                    return ev.name
            return value
        case bt.Pointer():
            value = int.from_bytes(data[:8], "little")
            return f"0x{value:x}" if plain else value
        case bt.Array():
            elem = spec.resolve(t.type)
            size = spec.size_of(t.type)
            if isinstance(elem, bt.Int) and elem.size == 1 and _is_printable_string(data[: t.nelems]):
                return data[: data.index(b"\0")].decode("ascii")
            count = min(t.nelems, len(data) // size) if size else min(t.nelems, _MAX_EMPTY_ELEMS)
            return [btf_value(spec, t.type, data[i * size:(i + 1) * size], plain=plain) for i in range(count)]
        case bt.Struct() | bt.Union():
            obj: dict[str, Any] = {}
            for m in t.members:
                if m.bitfield_size:
                    raw = int.from_bytes(data[: t.size], "little")
                    obj[m.name] = (raw >> m.bit_offset) & ((1 << m.bitfield_size) - 1)
                    continue
                start = m.bit_offset // 8
                value = btf_value(spec, m.type, data[start: start + spec.size_of(m.type)], plain=plain)
                if m.name:
                    obj[m.name] = value
                elif isinstance(value, dict):
                    obj.update(value)
            return obj
        case bt.Var():
            return {t.name: btf_value(spec, t.type, data, plain=plain)}
        case bt.Datasec():
            return {t.name: [btf_value(spec, v.type, data[v.offset: v.offset + v.size], plain=plain)
                             for v in t.vars]}
        case bt.Float():
            fmt = {4: "<f", 8: "<d"}.get(t.size)
            return struct.unpack(fmt, data[: t.size])[0] if fmt else f"0x{data[: t.size].hex()}"
        case _:
            return f"<{t.kind.name.lower()}>"
