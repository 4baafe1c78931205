"""BTF as text: ``raw`` (one record per type, as ``bpftool btf dump ... format raw`` prints it)
and ``c`` (a compilable header, e.g. ``vmlinux.h``, from :func:`bpfbuild.btf.cdecl.dump_c_header`).

The input is raw BTF (``/sys/kernel/btf/vmlinux``, a ``.btf`` file) or an ELF object, whose
``.BTF`` section is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import (
    Array,
    Const,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    Float,
    Func,
    FuncProto,
    Fwd,
    Int,
    IntEncoding,
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
from bpfbuild.errors import BpfBuildError, BTFError, ObjectError

__all__ = ["VMLINUX_BTF", "c_dump", "load_btf", "raw_dump", "raw_lines", "write_vmlinux_header"]

_ELF_MAGIC = b"\x7fELF"
VMLINUX_BTF = "/sys/kernel/btf/vmlinux"


def load_btf(path: str | os.PathLike[str]) -> Spec:
    """The BTF of a raw BTF file or of an ELF object's ``.BTF`` section."""
    path = os.fspath(path)
    from bpfbuild.inputs import read_input

    data = read_input(path, error=BTFError)
    try:
        if data[:4] == _ELF_MAGIC:
            from bpfbuild.obj.loader import load_object

            spec = load_object(data, name=os.path.basename(path).split(".", 1)[0] or "obj").btf
            if spec is None:
                raise ObjectError("the object has no .BTF section")
            return spec
        return Spec.from_bytes(data)
    except BpfBuildError as exc:
        raise exc.with_file(path) from None


def _name(t: Type) -> str:
    return f"'{t.name or '(anon)'}'"


def _encoding(t: Int) -> str:
    if t.encoding & IntEncoding.SIGNED:
        return "SIGNED"
    if t.encoding & IntEncoding.CHAR:
        return "CHAR"
    if t.encoding & IntEncoding.BOOL:
        return "BOOL"
    return "(none)"


def raw_lines(spec: Spec) -> Iterator[str]:
    """One line per type (and one per member, parameter, enumerator or section variable)."""
    for type_id in spec:
        if type_id == 0:
            continue
        t = spec.type(type_id)
        head = f"[{type_id}] {t.kind.name} {_name(t)}"
        match t:
            case Int():
                yield f"{head} size={t.size} bits_offset={t.offset} nr_bits={t.bits} encoding={_encoding(t)}"
            case Pointer() | Typedef() | Volatile() | Const() | Restrict():
                yield f"{head} type_id={t.type}"
            case Array():
                yield f"{head} type_id={t.type} index_type_id={t.index_type} nr_elems={t.nelems}"
            case Struct() | Union():
                yield f"{head} size={t.size} vlen={len(t.members)}"
                for m in t.members:
                    line = f"\t'{m.name or '(anon)'}' type_id={m.type} bits_offset={m.bit_offset}"
                    yield line + (f" bitfield_size={m.bitfield_size}" if m.bitfield_size else "")
            case Enum():
                yield f"{head} encoding={'SIGNED' if t.signed else 'UNSIGNED'} size={t.size} vlen={len(t.values)}"
                for v in t.values:
                    value = v.value if t.signed else v.value & 0xFFFFFFFF
                    yield f"\t'{v.name}' val={value}"
            case Enum64():
                yield f"{head} encoding={'SIGNED' if t.signed else 'UNSIGNED'} size={t.size} vlen={len(t.values)}"
                for v in t.values:
                    value = v.value if t.signed else v.value & 0xFFFFFFFFFFFFFFFF
                    yield f"\t'{v.name}' val={value}{'LL' if t.signed else 'ULL'}"
            case Fwd():
                yield f"{head} fwd_kind={t.fwd_kind.value}"
            case Func():
                yield f"{head} type_id={t.type} linkage={t.linkage.name.lower()}"
            case FuncProto():
                yield f"{head} ret_type_id={t.return_type} vlen={len(t.params) + int(t.variadic)}"
                for p in t.params:
                    yield f"\t'{p.name or '(anon)'}' type_id={p.type}"
                if t.variadic:
                    yield "\t'(anon)' type_id=0"
            case Var():
                yield f"{head} type_id={t.type}, linkage={t.linkage.name.lower()}"
            case Datasec():
                yield f"{head} size={t.size} vlen={len(t.vars)}"
                for vs in t.vars:
                    yield f"\ttype_id={vs.type} offset={vs.offset} size={vs.size} (VAR '{spec.name_of(vs.type)}')"
            case Float():
                yield f"{head} size={t.size}"
            case DeclTag():
                yield f"{head} type_id={t.type} component_idx={t.component_idx}"
            case TypeTag():
                yield f"{head} type_id={t.type}"
            case _:
                yield head


def raw_dump(spec: Spec) -> str:
    return "".join(line + "\n" for line in raw_lines(spec))


def c_dump(spec: Spec, *, source: str | None = None, guard: str | None = "__VMLINUX_H__",
           kfuncs: bool = True) -> str:
    """Every type of ``spec`` as a C header clang compiles (CO-RE ``preserve_access_index`` on
    records), with the kernel's kfuncs declared as bpftool declares them (``kfuncs``)."""
    from bpfbuild.btf.cdecl import dump_c_header

    return dump_c_header(spec, guard=guard, source=source, kfuncs=kfuncs)


def write_vmlinux_header(output: str | os.PathLike[str], source: str = VMLINUX_BTF) -> Path:
    """Write ``vmlinux.h`` for the running kernel (or another BTF file) atomically."""
    spec = load_btf(source)
    text = c_dump(spec, source=source)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, out)
    except OSError as exc:
        raise BpfBuildError(f"cannot write: {exc.strerror or exc}", file=str(out)) from exc
    return out
