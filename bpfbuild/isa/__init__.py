"""The eBPF instruction set (RFC 9669, Linux 6.18, clang -mcpu v1..v4).

* :mod:`~bpfbuild.isa.fields` - one ``IntEnum`` per opcode field, pseudo sources.
* :mod:`~bpfbuild.isa.opcodes` - the table of valid forms, derived from the enums.
* :mod:`~bpfbuild.isa.instruction` - :class:`Instruction` (``ld_imm64`` = one, two slots).
* :mod:`~bpfbuild.isa.codec` - bytes <-> instructions (:func:`decode`, :func:`encode`).
* :mod:`~bpfbuild.isa.syntax` - instructions -> text: llvm-objdump's and the kernel log's.
* :mod:`~bpfbuild.isa.listing` - an llvm-objdump listing (pc, bytes, text).
* :mod:`~bpfbuild.isa.asm` - text -> instructions (:func:`assemble`).

Program counters are slot indices everywhere.
"""

from bpfbuild.isa.asm import assemble
from bpfbuild.isa.codec import INSN_SIZE, decode, encode, iter_insns, slot_table
from bpfbuild.isa.fields import (
    ATOMIC_FETCH,
    AluOp,
    AtomicOp,
    CpuVersion,
    Endian,
    InsnClass,
    JmpOp,
    Mode,
    PseudoCall,
    PseudoLoad,
    Size,
    Source,
)
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.isa.opcodes import MAX_REG, Form, OpcodeEntry, OpcodeTable, describe_opcode, opcode_table
from bpfbuild.isa.listing import listing
from bpfbuild.isa.syntax import disassemble, format_insn, format_log_insn

__all__ = [
    "ATOMIC_FETCH",
    "AluOp",
    "AtomicOp",
    "CpuVersion",
    "Endian",
    "Form",
    "INSN_SIZE",
    "InsnClass",
    "Instruction",
    "JmpOp",
    "LD_IMM64_OPCODE",
    "MAX_REG",
    "Mode",
    "OpcodeEntry",
    "OpcodeTable",
    "PseudoCall",
    "PseudoLoad",
    "Size",
    "Source",
    "assemble",
    "decode",
    "describe_opcode",
    "disassemble",
    "encode",
    "format_insn",
    "format_log_insn",
    "iter_insns",
    "listing",
    "opcode_table",
    "slot_table",
]
