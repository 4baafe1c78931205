"""Bytes <-> instructions.  The only module that knows where the fields sit.

Wire format (RFC 9669, little endian): ``code:8 dst:4 src:4 off:s16 imm:s32``, with
``dst`` in the low nibble of the register byte.  ``ld_imm64`` spans two slots; the
second has code, registers and offset zero and carries the upper 32 bits in ``imm``.

:func:`decode` accepts exactly the instructions of :func:`~bpfbuild.isa.opcodes.opcode_table`
and raises :class:`~bpfbuild.errors.DecodeError` (with the pc) for anything else, so
``encode(decode(b)) == b`` for every ``b`` it accepts.
"""

from __future__ import annotations

import functools
import operator
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from bpfbuild.errors import DecodeError, ProgramError
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.isa.opcodes import MAX_REG, Form, opcode_table

__all__ = ["INSN_SIZE", "RawSlot", "decode", "encode", "iter_insns", "raw_slots", "slot_table"]

#: Bytes per instruction slot.
INSN_SIZE = 8

_SLOT = struct.Struct("<BBhi")

# A form prepared for the decoder: (form, getter of its fixed fields, their values).
_Check = tuple[Form, Callable[[tuple[int, int, int, int]], object] | None, object]
# Per opcode: (discriminator getter, {key: check}), or (None, the single form's check).
_Entry = (tuple[Callable[[tuple[int, int, int, int]], object], Mapping[object, _Check]]
          | tuple[None, _Check])

def _prepare(form: Form) -> _Check:
    indices = [i for i, want in enumerate(form.fixed) if want is not None]
    if not indices:
        return (form, None, None)
    values = tuple(form.fixed[i] for i in indices)
    return (form, operator.itemgetter(*indices), values[0] if len(values) == 1 else values)

@functools.cache
def _decoder() -> tuple[_Entry | None, ...]:
    entries: list[_Entry | None] = []
    for entry in opcode_table().entries:
        if entry is None:
            entries.append(None)
        elif not entry.disc:
            entries.append((None, _prepare(entry.forms[0])))
        else:
            entries.append((entry.key, {k: _prepare(f) for k, f in entry.by_key.items()}))
    return tuple(entries)

def _valid(decoder: tuple[_Entry | None, ...], code: int, dst: int, src: int, off: int,
           imm: int) -> bool:
    entry = decoder[code]
    if entry is None or not (0 <= dst <= MAX_REG and 0 <= src <= MAX_REG):
        return False
    fields = (dst, src, off, imm)
    if entry[0] is None:
        check: _Check | None = entry[1]
    else:
        check = entry[1].get(entry[0](fields))
    if check is None:
        return False
    getter = check[1]
    return getter is None or getter(fields) == check[2]


def _invalid(pc: int, code: int, dst: int, src: int, off: int, imm: int) -> DecodeError:
    reason = opcode_table().explain(code, dst, src, off, imm) or "invalid instruction"
    return DecodeError(reason, pc=pc)


#: One 8-byte slot's fields, unchecked: (opcode, dst, src, off, imm).
RawSlot = tuple[int, int, int, int, int]


def raw_slots(data: bytes | bytearray | memoryview) -> list[RawSlot]:
    """Every slot's fields, without validation: for readers that must see what :func:`decode`
    rejects -- the verifier, which reports invalid instructions as the kernel does, and a
    kernel's xlated image, which holds kernel-internal instructions.  The length must be a
    multiple of 8 (:class:`DecodeError` otherwise)."""
    size = len(data)
    if size % INSN_SIZE:
        raise DecodeError(f"length {size} is not a multiple of {INSN_SIZE}", pc=size // INSN_SIZE)
    return [(code, regs & 15, regs >> 4, off, imm) for code, regs, off, imm in _SLOT.iter_unpack(data)]


def decode(data: bytes | bytearray | memoryview) -> tuple[Instruction, ...]:
    """Decode a program (the bytes of an executable section) into instructions.

    Raises :class:`DecodeError` with the pc of the first bad slot: a length that is not a
    multiple of 8, an unknown opcode, reserved fields in use, a register above r10, an
    ``ld_imm64`` without its second slot or with a second slot that is not all zero
    apart from ``imm``.
    """
    size = len(data)
    if size % INSN_SIZE:
        raise DecodeError(f"length {size} is not a multiple of {INSN_SIZE}", pc=size // INSN_SIZE)
    decoder = _decoder()
    slots = list(_SLOT.iter_unpack(data))
    count = len(slots)
    out: list[Instruction] = []
    append = out.append
    pc = 0
    while pc < count:
        code, regs, off, imm = slots[pc]
        dst = regs & 15
        src = regs >> 4
        if not _valid(decoder, code, dst, src, off, imm):
            raise _invalid(pc, code, dst, src, off, imm)
        if code == LD_IMM64_OPCODE:
            if pc + 1 >= count:
                raise DecodeError("truncated ld_imm64: the second slot is missing", pc=pc)
            code2, regs2, off2, imm2 = slots[pc + 1]
            if code2 or regs2 or off2:
                raise DecodeError(
                    f"invalid ld_imm64 second slot: code={code2:#04x} dst={regs2 & 15} "
                    f"src={regs2 >> 4} off={off2} must be zero", pc=pc + 1)
            append(Instruction(code, dst, src, off, imm, imm2))
            pc += 2
        else:
            append(Instruction(code, dst, src, off, imm))
            pc += 1
    return tuple(out)


def encode(insns: Iterable[Instruction], *, check: bool = True) -> bytes:
    """Encode instructions to bytes (``ld_imm64`` writes its two slots).

    With ``check`` (the default) every instruction must be a valid form; without it any
    field values that fit their bit widths are written (to build deliberately invalid
    programs, e.g. for kernel verifier tests).  Failures raise :class:`ProgramError`
    with the pc.
    """
    decoder = _decoder()
    parts: list[bytes] = []
    pack = _SLOT.pack
    pc = 0
    for insn in insns:
        code, dst, src, off, imm = insn.opcode, insn.dst, insn.src, insn.off, insn.imm
        if check and not (0 <= code <= 0xFF and _valid(decoder, code, dst, src, off, imm)):
            reason = (opcode_table().explain(code, dst, src, off, imm) if 0 <= code <= 0xFF
                      else f"opcode {code} does not fit in a byte")
            raise ProgramError(f"cannot encode: {reason}", pc=pc)
        if not (0 <= dst <= 15 and 0 <= src <= 15):
            raise ProgramError(f"cannot encode: register field out of range (dst={dst}, src={src})",
                               pc=pc)
        try:
            parts.append(pack(code, (src << 4) | dst, off, imm))
            if code == LD_IMM64_OPCODE:
                parts.append(pack(0, 0, 0, insn.imm_hi))
        except struct.error as exc:
            raise ProgramError(f"cannot encode: field out of range ({exc})", pc=pc) from exc
        if insn.imm_hi and code != LD_IMM64_OPCODE:
            raise ProgramError("cannot encode: imm_hi is only meaningful for ld_imm64", pc=pc)
        pc += 2 if code == LD_IMM64_OPCODE else 1
    return b"".join(parts)

def iter_insns(insns: Iterable[Instruction]) -> Iterator[tuple[int, Instruction]]:
    """Yield ``(pc, insn)`` with pc the slot index (``ld_imm64`` advances it by 2)."""
    pc = 0
    for insn in insns:
        yield pc, insn
        pc += 2 if insn.opcode == LD_IMM64_OPCODE else 1

def slot_table(insns: Sequence[Instruction]) -> tuple[Instruction | None, ...]:
    """The program indexed by pc: ``table[pc]`` is the instruction starting at that slot,
    ``None`` for the second slot of an ``ld_imm64`` (a jump there is invalid)."""
    out: list[Instruction | None] = []
    for insn in insns:
        out.append(insn)
        if insn.opcode == LD_IMM64_OPCODE:
            out.append(None)
    return tuple(out)
