"""Instructions as the kernel verifier log prints them (kernel/bpf/disasm.c).

This is not llvm-objdump's syntax (that is :func:`bpfbuild.isa.format_insn`): the log prints the
opcode byte first and spells some forms differently, e.g. ``(61) r2 = *(u32 *)(r1 +4)``,
``(2d) if r3 > r2 goto pc+44``, ``(85) call bpf_map_lookup_elem#1``, ``(db) lock *(u64 *)(r0 +0)
+= r1``, ``(15) if r0 == 0x0 goto pc+3``.  Map addresses, which the kernel prints as kernel
pointers, are printed as the map's name.
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfbuild.isa.fields import InsnClass, JmpOp, Mode, PseudoCall, PseudoLoad
from bpfbuild.isa.instruction import Instruction
from bpfbuild.verifier.state import MapInfo

__all__ = ["helper_log_name", "insn_text"]

_ALU = {0x00: "+=", 0x10: "-=", 0x20: "*=", 0x30: "/=", 0x40: "|=", 0x50: "&=", 0x60: "<<=",
        0x70: ">>=", 0x80: "neg", 0x90: "%=", 0xA0: "^=", 0xB0: "=", 0xC0: "s>>=", 0xD0: "endian"}
_ALU_SIGNED = {0x30: "s/=", 0x90: "s%="}
_JMP = {0x00: "jmp", 0x10: "==", 0x20: ">", 0x30: ">=", 0x40: "&", 0x50: "!=", 0x60: "s>",
        0x70: "s>=", 0x80: "call", 0x90: "exit", 0xA0: "<", 0xB0: "<=", 0xC0: "s<", 0xD0: "s<=",
        0xE0: "cond"}
_LDST = {0x00: "u32", 0x08: "u16", 0x10: "u8", 0x18: "u64"}
_LDSX = {0x00: "s32", 0x08: "s16", 0x10: "s8", 0x18: "s64"}
_ATOMIC_ALU = {0x00: "add", 0x40: "or", 0x50: "and", 0xA0: "xor"}
_CLASS = {0: "ld", 1: "ldx", 2: "st", 3: "stx", 4: "alu", 5: "jmp", 6: "jmp32", 7: "alu64"}


def helper_log_name(func_id: int) -> str:
    """``func_id_name``: ``bpf_map_lookup_elem`` (``unknown`` outside the helper table)."""
    from bpfbuild.abi.helpers import helper_name

    if func_id == 0:
        return "bpf_unspec"
    name = helper_name(func_id) if 0 < func_id < 1 << 16 else None
    return name or "unknown"


def _off(v: int) -> str:
    return f"{v:+d}"


def insn_text(insn: Instruction, pc: int = 0, maps: Sequence[MapInfo] = ()) -> str:
    """One instruction in the log's syntax, without the ``pc:`` prefix."""
    code = insn.opcode
    cls = code & 0x07
    head = f"({code:02x})"
    if cls in (InsnClass.ALU, InsnClass.ALU64):
        w = "w" if cls == InsnClass.ALU else "r"
        op = code & 0xF0
        if op == 0xD0:
            if cls == InsnClass.ALU64:
                return f"{head} r{insn.dst} = bswap{insn.imm} r{insn.dst}"
            kind = "be" if code & 0x08 else "le"
            return f"{head} r{insn.dst} = {kind}{insn.imm} r{insn.dst}"
        if op == 0x80:
            return f"{head} {w}{insn.dst} = -{w}{insn.dst}"
        if cls == InsnClass.ALU64 and op == 0xB0 and code & 0x08 and insn.off == 1:
            return f"{head} r{insn.dst} = addr_space_cast(r{insn.src}, {(insn.imm & 0xFFFFFFFF) >> 16}, {insn.imm & 0xFFFF})"
        name = _ALU_SIGNED[op] if insn.off == 1 and op in _ALU_SIGNED else _ALU.get(op, "?")
        if code & 0x08:
            movsx = f"(s{insn.off})" if op == 0xB0 and insn.off in (8, 16, 32) else ""
            return f"{head} {w}{insn.dst} {name} {movsx}{w}{insn.src}"
        return f"{head} {w}{insn.dst} {name} {insn.imm}"
    if cls == InsnClass.STX:
        mode = code & 0xE0
        size = code & 0x18
        if mode == Mode.MEM:
            return f"{head} *({_LDST[size]} *)(r{insn.dst} {_off(insn.off)}) = r{insn.src}"
        if mode == Mode.ATOMIC:
            bits = "64" if size == 0x18 else ""
            imm = insn.imm
            if imm in _ATOMIC_ALU:
                return (f"{head} lock *({_LDST[size]} *)(r{insn.dst} {_off(insn.off)}) "
                        f"{_ALU[imm & 0xF0]} r{insn.src}")
            if imm & 1 and imm & 0xF0 in _ATOMIC_ALU and imm < 0xE0:
                return (f"{head} r{insn.src} = atomic{bits}_fetch_{_ATOMIC_ALU[imm & 0xF0]}(({_LDST[size]} *)"
                        f"(r{insn.dst} {_off(insn.off)}), r{insn.src})")
            if imm == 0xF1:
                return (f"{head} r0 = atomic{bits}_cmpxchg(({_LDST[size]} *)(r{insn.dst} {_off(insn.off)}), "
                        f"r0, r{insn.src})")
            if imm == 0xE1:
                return (f"{head} r{insn.src} = atomic{bits}_xchg(({_LDST[size]} *)(r{insn.dst} "
                        f"{_off(insn.off)}), r{insn.src})")
        return f"BUG_{code:02x}"
    if cls == InsnClass.ST:
        if code & 0xE0 == Mode.MEM:
            return f"{head} *({_LDST[code & 0x18]} *)(r{insn.dst} {_off(insn.off)}) = {insn.imm}"
        return f"BUG_st_{code:02x}"
    if cls == InsnClass.LDX:
        mode = code & 0xE0
        if mode not in (Mode.MEM, Mode.MEMSX):
            return f"BUG_ldx_{code:02x}"
        t = _LDST[code & 0x18] if mode == Mode.MEM else _LDSX[code & 0x18]
        return f"{head} r{insn.dst} = *({t} *)(r{insn.src} {_off(insn.off)})"
    if cls == InsnClass.LD:
        mode = code & 0xE0
        size = code & 0x18
        if mode == Mode.ABS:
            return f"{head} r0 = *({_LDST[size]} *)skb[{insn.imm}]"
        if mode == Mode.IND:
            return f"{head} r0 = *({_LDST[size]} *)skb[r{insn.src} + {insn.imm}]"
        if mode == Mode.IMM and size == 0x18:
            return f"{head} r{insn.dst} = {_imm64_text(insn, pc, maps)}"
        return f"BUG_ld_{code:02x}"
    op = code & 0xF0
    w = "w" if cls == InsnClass.JMP32 else "r"
    if op == JmpOp.CALL:
        if insn.src == PseudoCall.CALL:
            return f"{head} call pc{insn.imm:+d}"
        if insn.src == PseudoCall.KFUNC:
            return f"{head} call kernel-function#{insn.imm}"
        return f"{head} call {helper_log_name(insn.imm)}#{insn.imm}"
    if code == InsnClass.JMP | JmpOp.JA:
        return f"{head} goto pc{insn.off:+d}"
    if code == InsnClass.JMP | JmpOp.JCOND:
        return f"{head} may_goto pc{insn.off:+d}"
    if code == InsnClass.JMP32 | JmpOp.JA:
        return f"{head} gotol pc{insn.imm:+d}"
    if code == InsnClass.JMP | JmpOp.EXIT:
        return f"{head} exit"
    if code & 0x08:
        return f"{head} if {w}{insn.dst} {_JMP.get(op, '?')} {w}{insn.src} goto pc{insn.off:+d}"
    return f"{head} if {w}{insn.dst} {_JMP.get(op, '?')} {insn.imm & 0xFFFFFFFF:#x} goto pc{insn.off:+d}"


def _imm64_text(insn: Instruction, pc: int, maps: Sequence[MapInfo]) -> str:
    src = insn.src
    if src == PseudoLoad.FUNC:
        return f"func pc{insn.imm:+d}"
    if src in (PseudoLoad.MAP_FD, PseudoLoad.MAP_IDX, PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE):
        name = maps[insn.imm].name if 0 <= insn.imm < len(maps) else f"#{insn.imm}"
        if src in (PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE):
            return f"map_value({name})+{insn.imm_hi & 0xFFFFFFFF}"
        return f"map_ptr({name})"
    return f"{insn.imm64:#x}"


def class_name(code: int) -> str:
    return _CLASS[code & 0x07]
