"""bpftool-shaped output: ``prog show``, ``prog dump xlated``, ``map show``, ``map dump``.

Text mirrors bpftool 7.x line for line; JSON uses bpftool's keys (``id``, ``type``,
``name``, ``tag``, ``gpl_compatible``, ``loaded_at``, ``uid``, ``bytes_xlated``, ``jited``,
``bytes_jited``, ``bytes_memlock``, ``map_ids``, ``btf_id``...).  Instructions are
printed in bpfbuild's one syntax (:func:`bpfbuild.isa.format_insn`, the llvm/kernel
C-like text) except where the kernel's xlated image says more than the bytes of an
object do, which is spelled as bpftool spells it: ``r1 = map[id:12][0]+0``,
``call bpf_trace_printk#-61360`` (a rewritten helper call resolved through kallsyms;
``#6`` when the image still holds the helper id), ``call pc+7#bpf_prog_<tag>_f``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bpfbuild.errors import BpfBuildError, DecodeError, KernelError
from bpfbuild.isa.codec import raw_slots
from bpfbuild.isa.fields import AluOp, InsnClass, JmpOp, PseudoCall, PseudoLoad, Source
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.kernel.info import (
    MapInfo,
    ObjKind,
    ProgImages,
    ProgInfo,
    btf_info,
    open_by_id,
    prog_images,
    prog_info,
)
from bpfbuild.kernel.kallsyms import KernelSymbols
from bpfbuild.kernel.maps import MapHandle
from bpfbuild.obj.dump import XlatedInsn, annotated_text, xlated_json, xlated_text

if TYPE_CHECKING:
    from bpfbuild.btf.spec import Spec

__all__ = [
    "XlatedInsn",
    "btf_spec",
    "dumps",
    "full_prog_name",
    "loaded_at_text",
    "map_dump_json",
    "map_dump_text",
    "map_record",
    "map_text",
    "prog_record",
    "prog_text",
    "xlated_json",
    "xlated_listing",
    "xlated_text",
]

_OBJ_NAME_MAX = 15          # BPF_OBJ_NAME_LEN - 1


def dumps(value: Any, *, pretty: bool = False) -> str:
    """JSON as bpftool writes it: compact, or 4-space indented with ``--pretty``."""
    if pretty:
        return json.dumps(value, indent=4, ensure_ascii=False)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loaded_at_text(load_time_ns: int, epoch: int | None = None) -> str:
    """bpftool's ``loaded_at`` text: local time as ``%FT%T%z``."""
    from bpfbuild.kernel.info import loaded_at

    secs = epoch if epoch is not None else loaded_at(load_time_ns)
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(secs))


# --- BTF -------------------------------------------------------------------------------------

def btf_spec(btf_id: int) -> Spec | None:
    """The loaded BTF object ``btf_id`` parsed by :mod:`bpfbuild.btf` (None if gone or unparsable)."""
    if not btf_id:
        return None
    fd = open_by_id(ObjKind.BTF, btf_id)
    if fd is None:
        return None
    with fd:
        data = btf_info(fd).data
    from bpfbuild.btf.spec import Spec

    try:
        return Spec.from_bytes(data)
    except BpfBuildError as exc:
        _note(f"BTF id {btf_id}: cannot parse it ({exc.message}); shown without names from BTF")
        return None


def _func_name(spec: Spec | None, type_id: int) -> str | None:
    if spec is None:
        return None
    try:
        return spec.type(type_id).name or None
    except BpfBuildError as exc:
        _note(f"BTF type {type_id}: cannot read it ({exc.message})")
        return None


def full_prog_name(info: ProgInfo, spec: Spec | None = None, images: ProgImages | None = None) -> str:
    """The program's name, un-truncated from its BTF func info when the kernel cut it at 15 chars."""
    if len(info.name) < _OBJ_NAME_MAX or not info.btf_id or not info.nr_func_info:
        return info.name
    spec = spec if spec is not None else btf_spec(info.btf_id)
    if images is None:
        return info.name
    if not images.func_info:
        return info.name
    return _func_name(spec, images.func_info[0].type_id) or info.name


# --- prog show / map show --------------------------------------------------------------------

def prog_record(info: ProgInfo, *, name: str | None = None, pinned: Iterable[str] = ()) -> dict[str, Any]:
    """One program as ``bpftool prog show --json`` prints it."""
    rec: dict[str, Any] = {"id": info.id, "type": info.type_name or info.type}
    if info.name:
        rec["name"] = name or info.name
    rec["tag"] = info.tag
    rec["gpl_compatible"] = info.gpl_compatible
    if info.run_time_ns:
        rec["run_time_ns"] = info.run_time_ns
        rec["run_cnt"] = info.run_cnt
    if info.recursion_misses:
        rec["recursion_misses"] = info.recursion_misses
    if info.load_time_ns:
        rec["loaded_at"] = info.loaded_at
        rec["uid"] = info.uid
    rec["bytes_xlated"] = info.bytes_xlated
    rec["jited"] = info.jited
    if info.jited:
        rec["bytes_jited"] = info.bytes_jited
    if info.bytes_memlock is not None:
        rec["bytes_memlock"] = info.bytes_memlock
    if info.map_ids:
        rec["map_ids"] = list(info.map_ids)
    if info.btf_id:
        rec["btf_id"] = info.btf_id
    pins = list(pinned)
    if pins:
        rec["pinned"] = pins
    return rec


def prog_text(info: ProgInfo, *, name: str | None = None, pinned: Iterable[str] = ()) -> str:
    """One program as ``bpftool prog show`` prints it (no trailing newline)."""
    head = f"{info.id}: {info.type_name or f'type {info.type}'}  "
    if info.name:
        head += f"name {name or info.name}  "
    head += f"tag {info.tag}"
    if info.gpl_compatible:
        head += "  gpl"
    if info.run_time_ns:
        head += f" run_time_ns {info.run_time_ns} run_cnt {info.run_cnt}"
    if info.recursion_misses:
        head += f" recursion_misses {info.recursion_misses}"
    lines = [head]
    if info.load_time_ns:
        lines.append(f"\tloaded_at {loaded_at_text(info.load_time_ns)}  uid {info.uid}")
    body = f"\txlated {info.bytes_xlated}B"
    body += f"  jited {info.bytes_jited}B" if info.jited else "  not jited"
    if info.bytes_memlock is not None:
        body += f"  memlock {info.bytes_memlock}B"
    if info.map_ids:
        body += "  map_ids " + ",".join(str(i) for i in info.map_ids)
    for pin in pinned:
        body += f"\n\tpinned {pin}"
    if info.btf_id:
        body += f"\n\tbtf_id {info.btf_id}"
    lines.append(body)
    return "\n".join(lines)


def map_record(info: MapInfo, *, pinned: Iterable[str] = ()) -> dict[str, Any]:
    """One map as ``bpftool map show --json`` prints it."""
    rec: dict[str, Any] = {"id": info.id, "type": info.type_name or info.type}
    if info.name:
        rec["name"] = info.name
    rec["flags"] = info.flags
    rec["bytes_key"] = info.key_size
    rec["bytes_value"] = info.value_size
    rec["max_entries"] = info.max_entries
    if info.bytes_memlock is not None:
        rec["bytes_memlock"] = info.bytes_memlock
    rec["frozen"] = int(info.frozen)
    if info.btf_id:
        rec["btf_id"] = info.btf_id
    pins = list(pinned)
    if pins:
        rec["pinned"] = pins
    return rec


def map_text(info: MapInfo, *, pinned: Iterable[str] = ()) -> str:
    """One map as ``bpftool map show`` prints it (no trailing newline)."""
    head = f"{info.id}: {info.type_name or f'type {info.type}'}  "
    if info.name:
        head += f"name {info.name}  "
    head += f"flags {info.flags:#x}" if info.flags else "flags 0x0"
    body = f"\tkey {info.key_size}B  value {info.value_size}B  max_entries {info.max_entries}"
    if info.bytes_memlock is not None:
        body += f"  memlock {info.bytes_memlock}B"
    for pin in pinned:
        body += f"\n\tpinned {pin}"
    if info.btf_id or info.frozen:
        body += "\n\t"
        if info.btf_id:
            body += f"btf_id {info.btf_id}"
        if info.frozen:
            body += ("  " if info.btf_id else "") + "frozen"
    return head + "\n" + body


# --- prog dump xlated ------------------------------------------------------------------------
# The listing's layout, its record (XlatedInsn) and the annotation of instructions are shared
# with the offline ``bpfbuild dump --xlated`` (bpfbuild.obj.dump); this part adds what only a
# loaded program has: map ids, helper calls rewritten to kernel addresses, subprograms' symbols
# and the kernel-internal instructions of the image.

#: ``BPF_ST | BPF_NOSPEC``: the speculation barrier the verifier inserts (never in an object).
_NOSPEC = InsnClass.ST | 0xC0
#: ``BPF_ALU64 | BPF_MOV | BPF_X`` with off = -1: the verifier's per-CPU address move.
_MOV64_X = InsnClass.ALU64 | AluOp.MOV | Source.X
_CALL = InsnClass.JMP | JmpOp.CALL


def _note(message: str) -> None:
    """What could not be shown, on stderr: the listing goes on without it."""
    sys.stderr.write(f"bpfbuild: note: {message}\n")


@dataclass(frozen=True, slots=True)
class _KernelNames:
    """Names for a loaded program: map ids, helpers (by id, or by address through kallsyms)."""

    ksyms: KernelSymbols | None

    def map_ref(self, insn: Instruction) -> str | None:
        if insn.src == PseudoLoad.MAP_FD:
            return f"map[id:{insn.imm & 0xFFFFFFFF}]"
        if insn.src == PseudoLoad.MAP_VALUE:
            return f"map[id:{insn.imm & 0xFFFFFFFF}][0]+{insn.imm_hi & 0xFFFFFFFF}"
        return None

    def helper(self, insn: Instruction) -> str | None:
        from bpfbuild.abi import helper_name

        name = helper_name(insn.imm) if insn.src == PseudoCall.HELPER else None
        if name is None and self.ksyms is not None:
            name = self.ksyms.helper_at(insn.imm)
        if name is None and insn.src == PseudoCall.KFUNC:
            name = "kernel-function"
        return name or "unknown"

    def subprog(self, pc: int, insn: Instruction) -> str | None:
        return None   # the image's calls are spelled by _insn_text (the kernel rewrote them)


def _insn_text(pc: int, chunk: bytes, images: ProgImages, names: _KernelNames) -> tuple[int, str]:
    """The text of one xlated instruction (bpftool's spelling for calls and map loads)."""
    from bpfbuild.isa import decode, format_insn

    code, dst, src, off, imm = raw_slots(chunk[:8])[0]
    if code == _CALL and src == PseudoCall.CALL:
        # bpf-to-bpf, as the kernel rewrote it for xlated dumps: off = pc offset, imm = subprog index
        target = ""
        if 0 <= imm < len(images.jited_ksyms):
            name = names.ksyms.name_at(images.jited_ksyms[imm]) if names.ksyms else None
            target = f"#{name}" if name else f"#0x{images.jited_ksyms[imm]:x}"
        return code, f"call pc{off:+d}{target}"
    wide = code == LD_IMM64_OPCODE and len(chunk) >= 16
    insn = Instruction(code, dst, src, off, imm, raw_slots(chunk[8:16])[0][4] if wide else 0)
    if code == _CALL or (wide and names.map_ref(insn) is not None):
        return code, annotated_text(pc, insn, names)
    try:
        (decoded,) = decode(chunk)
        return code, format_insn(decoded)
    except DecodeError:
        pass   # not an instruction of an object: one the verifier made
    if code == _NOSPEC:
        return code, "nospec"
    if code == _MOV64_X and off == -1:
        return code, f"r{dst} = &(void __percpu *)(r{src})"
    return code, f".insn {chunk.hex()}"


def xlated_listing(fd: int, *, ksyms: KernelSymbols | None = None) -> list[XlatedInsn]:
    """The program behind ``fd`` as the kernel runs it, annotated like ``bpftool prog dump xlated``.

    BTF that cannot be read costs the prototypes and source lines, with a note on stderr."""
    info = prog_info(fd)
    images = prog_images(fd)
    if not images.xlated:
        raise KernelError("the kernel returned no instructions (kernel.kptr_restrict, or no CAP_SYS_ADMIN?)")
    spec = btf_spec(info.btf_id)
    if ksyms is None:
        ksyms = KernelSymbols.load()
    protos: dict[int, str] = {}
    lines: dict[int, tuple[str, str, int, int]] = {}
    if spec is not None:
        from bpfbuild.btf.cdecl import declaration

        unreadable: list[str] = []
        for fi in images.func_info:
            try:
                protos[fi.insn] = declaration(spec, fi.type_id)
            except BpfBuildError as exc:
                unreadable.append(f"the prototype at insn {fi.insn} ({exc.message})")
                name = _func_name(spec, fi.type_id)
                if name:
                    protos[fi.insn] = name
        for li in images.line_info:
            try:
                text = spec.string_at(li.line_off).lstrip()
                file = spec.string_at(li.file_name_off)
            except BpfBuildError as exc:
                unreadable.append(f"the source line at insn {li.insn} ({exc.message})")
                continue
            if text:
                lines[li.insn] = (text, file, li.line, li.column)
        if unreadable:
            more = f" and {len(unreadable) - 1} more" if len(unreadable) > 1 else ""
            _note(f"prog id {info.id}: BTF id {info.btf_id}: cannot read {unreadable[0]}{more}")
    names = _KernelNames(ksyms)
    out: list[XlatedInsn] = []
    data = images.xlated
    pc = 0
    while pc * 8 + 8 <= len(data):
        width = 16 if data[pc * 8] == LD_IMM64_OPCODE and pc * 8 + 16 <= len(data) else 8
        chunk = data[pc * 8: pc * 8 + width]
        code, text = _insn_text(pc, chunk, images, names)
        src = lines.get(pc)
        out.append(XlatedInsn(pc=pc, opcode=code, text=text, raw=chunk, proto=protos.get(pc),
                              src=src[0] if src else None, file=src[1] if src else None,
                              line=src[2] if src else None, column=src[3] if src else None))
        pc += width // 8
    return out


# --- map dump --------------------------------------------------------------------------------

def _hex_list(raw: bytes) -> list[str]:
    return [f"0x{b:02x}" for b in raw]


def _formatted(handle: MapHandle, spec: Spec | None, key: bytes, value: bytes, *, plain: bool) -> dict[str, Any] | None:
    from bpfbuild.btf.value import btf_value

    info = handle.info
    if spec is None or not info.btf_value_type_id:
        return None
    rec: dict[str, Any] = {}
    if info.btf_key_type_id:
        rec["key"] = btf_value(spec, info.btf_key_type_id, key, plain=plain)
    if handle.percpu:
        rec["values"] = [{"cpu": i, "value": btf_value(spec, info.btf_value_type_id, v, plain=plain)}
                         for i, v in enumerate(handle.split_percpu(value))]
    else:
        rec["value"] = btf_value(spec, info.btf_value_type_id, value, plain=plain)
    return rec


def map_dump_json(handle: MapHandle) -> list[dict[str, Any]]:
    """``bpftool map dump --json``: raw bytes as hex strings, plus ``formatted`` when BTF types them."""
    spec = btf_spec(handle.info.btf_id) if handle.info.btf_value_type_id else None
    out: list[dict[str, Any]] = []
    unformatted = 0
    for key, value in handle.items():
        rec: dict[str, Any] = {"key": _hex_list(key)}
        if handle.percpu:
            rec["values"] = [{"cpu": i, "value": _hex_list(v)} for i, v in enumerate(handle.split_percpu(value))]
        else:
            rec["value"] = _hex_list(value)
        try:
            formatted = _formatted(handle, spec, key, value, plain=False)
        except BpfBuildError as exc:
            if not unformatted:
                _note(f"map id {handle.info.id}: cannot format a value with BTF ({exc.message}); "
                      "those entries have no \"formatted\"")
            unformatted += 1
            formatted = None
        if formatted is not None:
            rec["formatted"] = formatted
        out.append(rec)
    return out


def _hex_bytes(raw: bytes) -> str:
    return " ".join(f"{b:02x}" for b in raw)


def map_dump_text(handle: MapHandle) -> str:
    """``bpftool map dump``: BTF-typed values as indented JSON, else hex key/value lines."""
    info = handle.info
    spec = btf_spec(info.btf_id) if info.btf_value_type_id else None
    items = handle.items()
    if spec is not None:
        try:
            return dumps([_formatted(handle, spec, k, v, plain=True) for k, v in items], pretty=True)
        except BpfBuildError as exc:
            _note(f"map id {info.id}: cannot format its values with BTF ({exc.message}); shown as bytes")
    rows: list[str] = []
    for key, value in items:
        if handle.percpu:
            rows.append("key:\n" + _hex_bytes(key))
            for i, v in enumerate(handle.split_percpu(value)):
                sep = "\n" if info.value_size > 16 else " "
                rows.append(f"value (CPU {i:02d}):{sep}{_hex_bytes(v)}")
            continue
        break_names = info.key_size > 16 or info.value_size > 16
        single = info.key_size + info.value_size <= 24 and not break_names
        sep = "\n" if break_names else " "
        row = f"key:{sep}{_hex_bytes(key)}" + ("  " if single else "\n") if info.key_size else ""
        row += f"value:{sep}{_hex_bytes(value)}" if info.value_size else ""
        rows.append(row)
    n = len(items)
    rows.append(f"Found {n} element{'s' if n != 1 else ''}")
    return "\n".join(rows)
