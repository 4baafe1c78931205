"""The fields of an eBPF opcode byte, one ``IntEnum`` per field (RFC 9669, Linux 6.18).

An opcode byte is ``class | size | mode`` for loads and stores and ``class | op | source``
for arithmetic and jumps.  The pseudo-source enums give the meaning of the ``src``
register field where it is not a register (``ld_imm64`` and ``call``).  Every enum is
``@unique``: equal values never alias silently (the END direction bit, which reuses the
source bit, has its own enum).

Only these enums and the masks below know where a field sits inside the opcode byte;
only :mod:`bpfbuild.isa.codec` knows where the opcode sits inside an instruction.
"""

from __future__ import annotations

from enum import IntEnum, unique

__all__ = [
    "ATOMIC_FETCH",
    "AluOp",
    "AtomicOp",
    "CLASS_MASK",
    "CpuVersion",
    "Endian",
    "InsnClass",
    "JmpOp",
    "MODE_MASK",
    "Mode",
    "OP_MASK",
    "PseudoCall",
    "PseudoLoad",
    "SIZE_MASK",
    "SOURCE_MASK",
    "Size",
    "Source",
]

CLASS_MASK = 0x07
SIZE_MASK = 0x18
MODE_MASK = 0xE0
OP_MASK = 0xF0
SOURCE_MASK = 0x08

#: Flag or-ed into an atomic op (in ``imm``): the old value is fetched into ``src``.
ATOMIC_FETCH = 0x01


@unique
class InsnClass(IntEnum):
    """Instruction class: the low three bits of the opcode."""

    LD = 0x00
    LDX = 0x01
    ST = 0x02
    STX = 0x03
    ALU = 0x04
    JMP = 0x05
    JMP32 = 0x06
    ALU64 = 0x07


@unique
class Size(IntEnum):
    """Access size of a load or store (bits 3-4)."""

    W = 0x00
    H = 0x08
    B = 0x10
    DW = 0x18

    @property
    def nbytes(self) -> int:
        """Bytes accessed: 4, 2, 1 or 8."""
        return _SIZE_BYTES[self]


_SIZE_BYTES = {Size.W: 4, Size.H: 2, Size.B: 1, Size.DW: 8}


@unique
class Mode(IntEnum):
    """Addressing mode of a load or store (bits 5-7)."""

    IMM = 0x00
    ABS = 0x20
    IND = 0x40
    MEM = 0x60
    MEMSX = 0x80
    ATOMIC = 0xC0


@unique
class Source(IntEnum):
    """Operand source of ALU and jump instructions (bit 3): immediate or register."""

    K = 0x00
    X = 0x08


@unique
class Endian(IntEnum):
    """Direction of ``ALU | END`` (the source bit): to little or to big endian."""

    LE = 0x00
    BE = 0x08


@unique
class AluOp(IntEnum):
    """Operation of ``ALU`` / ``ALU64`` instructions (bits 4-7)."""

    ADD = 0x00
    SUB = 0x10
    MUL = 0x20
    DIV = 0x30
    OR = 0x40
    AND = 0x50
    LSH = 0x60
    RSH = 0x70
    NEG = 0x80
    MOD = 0x90
    XOR = 0xA0
    MOV = 0xB0
    ARSH = 0xC0
    END = 0xD0


@unique
class JmpOp(IntEnum):
    """Operation of ``JMP`` / ``JMP32`` instructions (bits 4-7).

    ``JCOND`` (``may_goto``, Linux 6.9) is a kernel extension outside RFC 9669.
    """

    JA = 0x00
    JEQ = 0x10
    JGT = 0x20
    JGE = 0x30
    JSET = 0x40
    JNE = 0x50
    JSGT = 0x60
    JSGE = 0x70
    CALL = 0x80
    EXIT = 0x90
    JLT = 0xA0
    JLE = 0xB0
    JSLT = 0xC0
    JSLE = 0xD0
    JCOND = 0xE0


@unique
class AtomicOp(IntEnum):
    """Atomic operation of ``STX | ATOMIC``, carried in ``imm``.

    ADD/OR/AND/XOR exist with and without :data:`ATOMIC_FETCH`; XCHG and CMPXCHG always
    fetch, so their values include the flag.
    """

    ADD = 0x00
    OR = 0x40
    AND = 0x50
    XOR = 0xA0
    XCHG = 0xE0 | ATOMIC_FETCH
    CMPXCHG = 0xF0 | ATOMIC_FETCH


@unique
class PseudoLoad(IntEnum):
    """Meaning of ``src`` in ``ld_imm64`` (``BPF_PSEUDO_*``); 0 is a plain 64-bit constant."""

    IMM64 = 0
    MAP_FD = 1
    MAP_VALUE = 2
    BTF_ID = 3
    FUNC = 4
    MAP_IDX = 5
    MAP_IDX_VALUE = 6


@unique
class PseudoCall(IntEnum):
    """Meaning of ``src`` in ``call``: helper id, bpf-to-bpf (pc-relative), kfunc BTF id."""

    HELPER = 0
    CALL = 1
    KFUNC = 2


@unique
class CpuVersion(IntEnum):
    """ISA version (clang ``-mcpu=vN``) that introduced an instruction.

    v1 base; v2 adds JLT/JLE/JSLT/JSLE; v3 adds JMP32 and the atomics other than a plain
    ``lock +=``; v4 adds signed div/mod, movsx, ldsx, bswap and gotol.  Kernel extensions
    that no -mcpu level emits by itself (may_goto, addr_space_cast, callx) are marked v4:
    they need LLVM >= 18 to assemble.
    """

    V1 = 1
    V2 = 2
    V3 = 3
    V4 = 4
