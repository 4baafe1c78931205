"""How control leaves an instruction, by opcode byte: the facts ``check_cfg``'s visit_insn and
``bpf_insn_successors`` both read (cfg.py's walks and liveness.py's forward plan share them)."""

from __future__ import annotations

from bpfbuild.isa.fields import CLASS_MASK, OP_MASK, InsnClass, JmpOp
from bpfbuild.isa.instruction import LD_IMM64_OPCODE

__all__ = ["CALL", "COND", "EXIT", "JA", "LD64", "PLAIN", "VISIT_KIND", "visit_kind"]

PLAIN = 0     # falls through to the next slot
LD64 = 1      # ld_imm64: falls through two slots (or, loading a function's address, visits it)
EXIT = 2
CALL = 3
JA = 4        # an unconditional jump
COND = 5      # a conditional jump (and may_goto)


def visit_kind(code: int) -> int:
    """How control leaves an instruction of opcode ``code`` (one of the kinds above)."""
    if code == LD_IMM64_OPCODE:
        return LD64
    if code & CLASS_MASK not in (InsnClass.JMP, InsnClass.JMP32):
        return PLAIN
    op = code & OP_MASK
    if op == JmpOp.EXIT:
        return EXIT
    if op == JmpOp.CALL:
        return CALL
    if op == JmpOp.JA:
        return JA
    return COND


#: the kind of every opcode byte
VISIT_KIND = bytes(visit_kind(code) for code in range(256))
