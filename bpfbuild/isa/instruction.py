"""One eBPF instruction as a small immutable record.

``Instruction(opcode, dst, src, off, imm)`` holds the fields as numbers (``off`` and
``imm`` signed, as on the wire).  ``ld_imm64`` is *one* instruction that occupies two
slots: ``imm`` is the low 32 bits and ``imm_hi`` the high 32 bits of its 64-bit value,
each stored exactly as its slot carries it (a signed 32-bit number), so both halves
round-trip bit for bit.  ``imm_hi`` is 0 for every other instruction.

Program counters are slot indices everywhere (what llvm-objdump and the kernel log
print): the instruction after an ``ld_imm64`` at pc 4 is at pc 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpfbuild.isa.fields import (
    CLASS_MASK,
    MODE_MASK,
    OP_MASK,
    SIZE_MASK,
    SOURCE_MASK,
    AluOp,
    InsnClass,
    JmpOp,
    Mode,
    PseudoCall,
    PseudoLoad,
    Size,
    Source,
)

if TYPE_CHECKING:
    from bpfbuild.isa.opcodes import Form

__all__ = [
    "Instruction",
    "LD_IMM64_OPCODE",
]

#: ``LD | IMM | DW``: the two-slot 64-bit immediate load.
LD_IMM64_OPCODE = InsnClass.LD | Mode.IMM | Size.DW

_CALL = InsnClass.JMP | JmpOp.CALL | Source.K
_CALLX = InsnClass.JMP | JmpOp.CALL | Source.X
_EXIT = InsnClass.JMP | JmpOp.EXIT | Source.K
_GOTOL = InsnClass.JMP32 | JmpOp.JA | Source.K
_JUMP_CLASSES = (InsnClass.JMP, InsnClass.JMP32)
_ACCESS_BYTES = (4, 2, 1, 8)    # by the size field (bits 3-4): W, H, B, DW
_NOT_JUMPS = (JmpOp.CALL, JmpOp.EXIT)


def _s32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


@dataclass(frozen=True, slots=True)
class Instruction:
    """An instruction: opcode byte, registers, signed 16-bit offset, signed 32-bit imm.

    ``imm_hi`` is the upper half of an ``ld_imm64`` value (see the module docstring).
    The record does not validate itself; :func:`bpfbuild.isa.codec.encode` and
    :attr:`form` tell whether the fields make a valid instruction.
    """

    opcode: int
    dst: int = 0
    src: int = 0
    off: int = 0
    imm: int = 0
    imm_hi: int = 0

    @classmethod
    def ld_imm64(cls, dst: int, value: int, src: int = PseudoLoad.IMM64) -> Instruction:
        """``dst = value ll`` (or a pseudo load, ``src`` a :class:`PseudoLoad`).

        ``value`` may be given signed or unsigned; it is split into the two halves.
        """
        return cls(LD_IMM64_OPCODE, dst, int(src), 0, _s32(value), _s32(value >> 32))

    # --- opcode fields ------------------------------------------------------------------

    @property
    def cls(self) -> InsnClass:
        return InsnClass(self.opcode & CLASS_MASK)

    @property
    def source(self) -> Source:
        """K (immediate) or X (register) operand of ALU and jump instructions."""
        return Source(self.opcode & SOURCE_MASK)

    @property
    def alu_op(self) -> AluOp:
        """The operation of an ALU/ALU64 instruction (ValueError for other classes)."""
        if not self.is_alu:
            raise ValueError(f"opcode {self.opcode:#04x} is not an ALU instruction")
        return AluOp(self.opcode & OP_MASK)

    @property
    def jmp_op(self) -> JmpOp:
        """The operation of a JMP/JMP32 instruction (ValueError for other classes)."""
        if self.cls not in _JUMP_CLASSES:
            raise ValueError(f"opcode {self.opcode:#04x} is not a JMP instruction")
        return JmpOp(self.opcode & OP_MASK)

    @property
    def size(self) -> Size:
        """Access size of a load or store."""
        return Size(self.opcode & SIZE_MASK)

    @property
    def mode(self) -> Mode:
        """Addressing mode of a load or store."""
        return Mode(self.opcode & MODE_MASK)

    @property
    def access_size(self) -> int:
        """Bytes a load or store accesses (1, 2, 4 or 8)."""
        return _ACCESS_BYTES[self.opcode >> 3 & 3]   # Size(self.opcode & SIZE_MASK).nbytes, without the enum call

    @property
    def form(self) -> Form | None:
        """The table form these fields make, ``None`` when they are not a valid instruction."""
        from bpfbuild.isa.opcodes import opcode_table

        return opcode_table().lookup(self.opcode, self.dst, self.src, self.off, self.imm)

    # --- kinds --------------------------------------------------------------------------

    @property
    def is_ld_imm64(self) -> bool:
        return self.opcode == LD_IMM64_OPCODE

    @property
    def slots(self) -> int:
        """Instruction slots occupied: 2 for ``ld_imm64``, else 1."""
        return 2 if self.opcode == LD_IMM64_OPCODE else 1

    @property
    def imm64(self) -> int:
        """The unsigned 64-bit value of an ``ld_imm64`` (``imm`` zero-extended otherwise)."""
        return ((self.imm_hi & 0xFFFFFFFF) << 32) | (self.imm & 0xFFFFFFFF)

    @property
    def simm64(self) -> int:
        """The signed 64-bit value of an ``ld_imm64``."""
        value = self.imm64
        return value - (1 << 64) if value >> 63 else value

    @property
    def is_alu(self) -> bool:
        return self.opcode & CLASS_MASK in (InsnClass.ALU, InsnClass.ALU64)

    @property
    def is_alu64(self) -> bool:
        return self.opcode & CLASS_MASK == InsnClass.ALU64

    @property
    def is_load(self) -> bool:
        """A memory or packet load (LDX, LD_ABS, LD_IND); not ``ld_imm64``."""
        cls = self.opcode & CLASS_MASK
        return cls == InsnClass.LDX or (cls == InsnClass.LD and self.opcode & MODE_MASK in (Mode.ABS, Mode.IND))

    @property
    def is_store(self) -> bool:
        """A plain store (ST or STX MEM); atomics are :attr:`is_atomic`."""
        cls = self.opcode & CLASS_MASK
        return cls in (InsnClass.ST, InsnClass.STX) and self.opcode & MODE_MASK == Mode.MEM

    @property
    def is_atomic(self) -> bool:
        return self.opcode & CLASS_MASK == InsnClass.STX and self.opcode & MODE_MASK == Mode.ATOMIC

    @property
    def is_call(self) -> bool:
        """Any call: helper, bpf-to-bpf, kfunc or ``callx``."""
        return self.opcode in (_CALL, _CALLX)

    @property
    def is_helper_call(self) -> bool:
        return self.opcode == _CALL and self.src == PseudoCall.HELPER

    @property
    def is_subprog_call(self) -> bool:
        """A bpf-to-bpf call (``src`` = 1, ``imm`` = target - pc - 1)."""
        return self.opcode == _CALL and self.src == PseudoCall.CALL

    @property
    def is_kfunc_call(self) -> bool:
        return self.opcode == _CALL and self.src == PseudoCall.KFUNC

    @property
    def is_callx(self) -> bool:
        return self.opcode == _CALLX

    @property
    def is_exit(self) -> bool:
        return self.opcode == _EXIT

    @property
    def is_jump(self) -> bool:
        """A branch with a static target: goto, gotol, conditional jumps, may_goto."""
        return self.opcode & CLASS_MASK in _JUMP_CLASSES and self.opcode & OP_MASK not in _NOT_JUMPS

    @property
    def is_cond_jump(self) -> bool:
        """A branch that may fall through (conditional jumps and may_goto)."""
        return self.is_jump and self.opcode & OP_MASK != JmpOp.JA

    @property
    def jump_offset(self) -> int:
        """Slots to skip after this one: ``off``, or ``imm`` for ``gotol``."""
        if not self.is_jump:
            raise ValueError(f"opcode {self.opcode:#04x} is not a jump")
        return self.imm if self.opcode == _GOTOL else self.off

    def jump_target(self, pc: int) -> int:
        """The pc a jump at ``pc`` goes to when taken."""
        return pc + 1 + self.jump_offset

    def call_target(self, pc: int) -> int:
        """The pc of the function a bpf-to-bpf call or an ``ld_imm64`` FUNC at ``pc`` names."""
        if not (self.is_subprog_call or (self.is_ld_imm64 and self.src == PseudoLoad.FUNC)):
            raise ValueError(f"opcode {self.opcode:#04x} src {self.src} does not name a function")
        return pc + 1 + self.imm

    def __str__(self) -> str:
        from bpfbuild.isa.syntax import format_insn

        return format_insn(self)
