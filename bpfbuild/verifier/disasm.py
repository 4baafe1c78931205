"""Instructions as the kernel verifier log prints them (kernel/bpf/disasm.c).

The dialect itself -- ``(61) r2 = *(u32 *)(r1 +4)``, ``(2d) if r3 > r2 goto pc+44``,
``(db) lock *(u64 *)(r0 +0) += r1``, ``(15) if r0 == 0x0 goto pc+3`` -- is a template column of
the opcode table (``Form.log``, rendered by :func:`bpfbuild.isa.format_log_insn`).  This module
adds what only the verifier knows, as the kernel's ``print_bpf_insn`` callbacks do: helper
names (``call bpf_map_lookup_elem#1``) and maps, which the kernel prints as kernel pointers
and we print by name (``map_ptr(counts)``, ``map_value(hello.bss)+4``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bpfbuild.abi.helpers import helper_name
from bpfbuild.isa.fields import AluOp, InsnClass, JmpOp, PseudoCall, PseudoLoad
from bpfbuild.isa.instruction import Instruction
from bpfbuild.isa.syntax import format_log_insn
from bpfbuild.verifier.state import MapInfo

__all__ = ["helper_log_name", "insn_text"]

#: ``bpf_alu_string``: the operator the kernel names in messages about an ALU op.
_ALU = {AluOp.ADD: "+=", AluOp.SUB: "-=", AluOp.MUL: "*=", AluOp.DIV: "/=", AluOp.OR: "|=",
        AluOp.AND: "&=", AluOp.LSH: "<<=", AluOp.RSH: ">>=", AluOp.NEG: "neg", AluOp.MOD: "%=",
        AluOp.XOR: "^=", AluOp.MOV: "=", AluOp.ARSH: "s>>=", AluOp.END: "endian"}

#: Helper ids the kernel's ``func_id_name`` looks up (its table is indexed by a u16 id).
_HELPER_ID_LIMIT = 1 << 16


def helper_log_name(func_id: int) -> str:
    """``func_id_name``: ``bpf_map_lookup_elem`` (``unknown`` outside the helper table)."""
    if func_id == 0:
        return "bpf_unspec"
    name = helper_name(func_id) if 0 < func_id < _HELPER_ID_LIMIT else None
    return name or "unknown"


_CALL = InsnClass.JMP | JmpOp.CALL


def insn_text(insn: Instruction, pc: int = 0, maps: Sequence[MapInfo] = (),
              kfunc: Callable[[Instruction], str | None] | None = None) -> str:
    """One instruction in the log's syntax, without the ``pc:`` prefix.  ``kfunc(insn)`` names
    a kfunc call as the verifier's ``disasm_kfunc_name`` does (``call bpf_task_acquire#1234``);
    without a name it is ``call kernel-function#id``, as disasm.c prints it."""
    if kfunc is not None and insn.opcode == _CALL and insn.src == PseudoCall.KFUNC:
        name = kfunc(insn)
        if name is not None:
            return f"({insn.opcode:02x}) call {name}#{insn.imm}"
    return format_log_insn(insn, helper=helper_log_name, ld64=lambda i: _imm64_text(i, maps))


def _imm64_text(insn: Instruction, maps: Sequence[MapInfo]) -> str:
    src = insn.src
    if src == PseudoLoad.FUNC:
        return f"func pc{insn.imm:+d}"
    if src in (PseudoLoad.MAP_FD, PseudoLoad.MAP_IDX, PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE):
        name = maps[insn.imm].name if 0 <= insn.imm < len(maps) else f"#{insn.imm}"
        if src in (PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE):
            return f"map_value({name})+{insn.imm_hi & 0xFFFFFFFF}"
        return f"map_ptr({name})"
    return f"{insn.imm64:#x}"
