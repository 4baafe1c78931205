"""The C backend: each program translated to C, compiled once (cached by content), run through ctypes.

The C code follows :mod:`bpfbuild.vm.compiler` instruction for instruction (the kernel
semantics listed there) and keeps the same memory model: a pointer is ``key << 32 | offset``,
an access is valid only inside the ``bytearray`` of a region the machine's
:class:`~bpfbuild.vm.memory.Memory` maps under that key, writes only where it is writable.
The C side asks Python for a region's bytes (``resolve``) and keeps the answer in a small
cache, emptied whenever Python code that may remap or resize regions ran (a helper, a tail
call); helpers, frames, tail calls and context pointer loads call back into Python, so maps,
printk, packets and faults are the very objects the Python backend uses.  A fault stops the
C code with a status, the pc and the registers, and Python turns it into the same
:class:`~bpfbuild.errors.VMError` the Python backend raises.

What the C backend does not translate (callx, legacy packet loads, kfuncs, arena casts),
and every machine without a C compiler, runs on the Python translation instead: the choice is
per program and silent.  Compilers tried: ``$BPFBUILD_CC``, ``$CC``, ``cc``, ``gcc``,
``clang``, then ``python -m ziglang cc``.  Objects are cached in
``$XDG_CACHE_HOME/bpfbuild/vm-c`` (default ``~/.cache/...``), named by the hash of the C source.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bpfbuild.isa.fields import (
    ATOMIC_FETCH,
    CLASS_MASK,
    MODE_MASK,
    OP_MASK,
    SIZE_MASK,
    SOURCE_MASK,
    AluOp,
    AtomicOp,
    InsnClass,
    JmpOp,
    Mode,
    PseudoCall,
    PseudoLoad,
    Size,
    Source,
)
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.vm.compiler import (
    MAY_GOTO_LOOPS,
    STACK_SIZE,
    _bad_target,
    _entries,
    _function_blocks,
    _is_terminator,
    _jump_target,
    _slots,
    _valid_target,
    _writes_r10,
    invalid_forms,
)

__all__ = ["CProgram", "CUnsupported", "c_compiler", "compile_c", "translate_c"]

_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1
_TAIL_CALL = 12

#: status codes the C code leaves in ``vm->status``
ST_OK, ST_MEM, ST_EXC, ST_TRAP, ST_BUDGET = 0, 1, 2, 3, 4


class CUnsupported(Exception):
    """The program uses something the C backend does not translate (it runs in Python)."""


class _Region(ctypes.Structure):
    _fields_ = [("key", ctypes.c_uint64), ("ptr", ctypes.c_void_p), ("len", ctypes.c_uint64),
                ("flags", ctypes.c_uint64)]


_RESOLVE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint64, ctypes.POINTER(_Region))
_HELPER = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_int64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64,
                           ctypes.c_uint64, ctypes.c_uint64)
_PUSH = ctypes.CFUNCTYPE(ctypes.c_uint64)
_POP = ctypes.CFUNCTYPE(None)
_TAIL = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64,
                         ctypes.POINTER(ctypes.c_int))
_LOAD32 = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64)


class VmStruct(ctypes.Structure):
    _fields_ = [
        ("left", ctypes.c_int64), ("status", ctypes.c_int64), ("fault_pc", ctypes.c_int64),
        ("trap_id", ctypes.c_int64), ("last_exit", ctypes.c_int64), ("code_base", ctypes.c_uint64),
        ("regs", ctypes.c_uint64 * 11), ("cache", _Region * 8),
        ("pseudo", ctypes.POINTER(ctypes.c_uint64)),
        ("resolve", _RESOLVE), ("helper", _HELPER), ("push", _PUSH), ("pop", _POP), ("tail", _TAIL),
        ("load32", _LOAD32),
    ]


_PRELUDE = r"""
#include <stdint.h>
#include <string.h>
typedef uint64_t u64; typedef int64_t s64; typedef uint32_t u32; typedef int32_t s32;
typedef uint16_t u16; typedef int16_t s16; typedef uint8_t u8; typedef int8_t s8;
struct region { u64 key; u8 *ptr; u64 len; u64 flags; };
struct vm {
  s64 left, status, fault_pc, trap_id, last_exit; u64 code_base; u64 regs[11];
  struct region cache[8]; const u64 *pseudo;
  int (*resolve)(u64 key, struct region *out);
  u64 (*helper)(s64 id, u64, u64, u64, u64, u64);
  u64 (*push)(void); void (*pop)(void);
  u64 (*tail)(u64, u64, u64, int *found);
  u64 (*load32)(u64 key, u64 off);
};
static inline void flush(struct vm *vm) { for (int i = 0; i < 8; i++) vm->cache[i].key = 0; }
static inline struct region *region(struct vm *vm, u64 key) {
  struct region *r = &vm->cache[key & 7];
  if (r->key != key || !key) { if (!key || !vm->resolve(key, r)) return 0; }
  return r;
}
/* a checked pointer to size bytes at addr (0: the access faults) */
static inline u8 *mem(struct vm *vm, u64 addr, u64 size, int write) {
  struct region *r = region(vm, addr >> 32);
  u64 off = addr & 0xffffffffULL;
  if (!r || off + size > r->len || (write && !(r->flags & 1))) return 0;
  return r->ptr + off;
}
static inline u64 ld8(const u8 *p) { return p[0]; }
static inline u64 ld16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static inline u64 ld32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static inline u64 ld64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }
static inline void st8(u8 *p, u64 v) { p[0] = (u8)v; }
static inline void st16(u8 *p, u64 v) { u16 x = (u16)v; memcpy(p, &x, 2); }
static inline void st32(u8 *p, u64 v) { u32 x = (u32)v; memcpy(p, &x, 4); }
static inline void st64(u8 *p, u64 v) { memcpy(p, &v, 8); }
static inline u64 sdiv64(u64 a, u64 b) {
  if (!b) return 0;
  if ((s64)a == INT64_MIN && (s64)b == -1) return a;
  return (u64)((s64)a / (s64)b);
}
static inline u64 smod64(u64 a, u64 b) {
  if (!b) return a;
  if ((s64)b == -1) return 0;
  return (u64)((s64)a % (s64)b);
}
static inline u64 sdiv32(u64 a, u64 b) {
  u32 y = (u32)b; s32 x = (s32)(u32)a;
  if (!y) return 0;
  if (x == INT32_MIN && (s32)y == -1) return (u32)x;
  return (u32)(x / (s32)y);
}
static inline u64 smod32(u64 a, u64 b) {
  u32 y = (u32)b;
  if (!y) return (u32)a;
  if ((s32)y == -1) return 0;
  return (u32)((s32)(u32)a % (s32)y);
}
/* a 4-byte load: a context region answers its pointer fields with 64 bits */
static inline int load32(struct vm *vm, u64 addr, u64 *out) {
  struct region *r = region(vm, addr >> 32);
  u64 off = addr & 0xffffffffULL;
  if (!r || off + 4 > r->len) return 0;
  *out = (r->flags & 2) ? vm->load32(addr >> 32, off) : ld32(r->ptr + off);
  return 1;
}
#define SAVE() do { vm->regs[0]=r0; vm->regs[1]=r1; vm->regs[2]=r2; vm->regs[3]=r3; vm->regs[4]=r4; \
  vm->regs[5]=r5; vm->regs[6]=r6; vm->regs[7]=r7; vm->regs[8]=r8; vm->regs[9]=r9; vm->regs[10]=r10; } while (0)
#define FAULT(st, pc) do { if (!vm->status) { vm->status = (st); vm->fault_pc = (pc); SAVE(); } \
  vm->left = left; return 0; } while (0)
#define TRAP(pc, id) do { vm->trap_id = (id); FAULT(3, pc); } while (0)
#define BUDGET(n, pc) do { left -= (n); if (left < 0) FAULT(4, pc); } while (0)
"""


@dataclass(frozen=True)
class CSource:
    text: str
    entries: tuple[int, ...]
    traps: tuple[str, ...]
    pseudo: tuple[int, ...]          # pcs of pseudo ld_imm64 (their values come from the link)


def _k64(v: int) -> str:
    return f"0x{v & _M64:x}ULL"


def _k32(v: int) -> str:
    return f"0x{v & _M32:x}U"


class _CGen:
    def __init__(self, insns: Sequence[Instruction]) -> None:
        self.slots = _slots(insns)
        self.traps: list[str] = []
        self.pseudo: list[int] = []
        self.out: list[str] = []

    def trap(self, message: str) -> int:
        self.traps.append(message)
        return len(self.traps) - 1

    def check(self) -> None:
        for insn in self.slots:
            if insn is None:
                continue
            cls = insn.opcode & CLASS_MASK
            if insn.opcode == (InsnClass.JMP | JmpOp.CALL | Source.X):
                raise CUnsupported("callx")
            if cls == InsnClass.LD and insn.opcode != LD_IMM64_OPCODE:
                raise CUnsupported("legacy packet loads")
            if insn.opcode == (InsnClass.JMP | JmpOp.CALL) and insn.src not in (PseudoCall.HELPER, PseudoCall.CALL):
                raise CUnsupported("kfunc calls")
            if cls == InsnClass.ALU64 and insn.opcode & OP_MASK == AluOp.MOV and insn.opcode & SOURCE_MASK \
                    and insn.off == 1:
                raise CUnsupported("addr_space_cast")
            if insn.opcode == LD_IMM64_OPCODE and insn.src not in (
                    PseudoLoad.IMM64, PseudoLoad.FUNC, PseudoLoad.MAP_FD, PseudoLoad.MAP_IDX,
                    PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE, PseudoLoad.BTF_ID):
                raise CUnsupported(f"ld_imm64 pseudo source {insn.src}")

    def generate(self) -> CSource:
        self.check()
        entries = _entries(self.slots) if self.slots else []
        for e in entries:
            self.out.append(f"static u64 f{e}(struct vm *vm, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5);")
        for e in entries:
            self.function(e)
        for e in entries:
            self.out.append(f"u64 bpf_entry_{e}(struct vm *vm, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5) "
                            f"{{ return f{e}(vm, r1, r2, r3, r4, r5); }}")
        return CSource(_PRELUDE + "\n".join(self.out) + "\n", tuple(entries), tuple(self.traps), tuple(self.pseudo))

    # --- one function ---------------------------------------------------------------------

    def function(self, entry: int) -> None:
        slots = self.slots
        blocks = _function_blocks(slots, entry)
        stack = not any(_writes_r10(slots[pc]) for pcs in blocks.values() for pc in pcs)  # type: ignore[arg-type]
        self.stack = stack
        o = self.out
        o.append(f"static u64 f{entry}(struct vm *vm, u64 r1, u64 r2, u64 r3, u64 r4, u64 r5) {{")
        o.append("  u64 r0 = 0, r6 = 0, r7 = 0, r8 = 0, r9 = 0, r10 = 0, t = 0; u8 *p; s64 left = vm->left;"
                 f" s64 mg = {MAY_GOTO_LOOPS}; u8 *S = 0; (void)t; (void)p; (void)mg; (void)S;")
        # a frame that cannot be pushed is the caller's fault, at its call (as in Python,
        # where the push comes before the callee's fault handler)
        o.append("  r10 = vm->push(); if (vm->status) { vm->fault_pc = -3; return 0; }")
        if stack:
            o.append("  { struct region *sr = region(vm, r10 >> 32); if (!sr) FAULT(1, -1); S = sr->ptr; }")
        o.append(f"  goto L{entry};")
        for leader in sorted(blocks):
            self.block(leader, blocks[leader])
        o.append("}")

    def block(self, leader: int, pcs: list[int]) -> None:
        o, slots = self.out, self.slots
        o.append(f" L{leader}:")
        o.append(f"  BUDGET({len(pcs)}, {leader});")
        last_pc = pcs[-1]
        last = slots[last_pc]
        assert last is not None
        terminated = _is_terminator(last)
        for pc in (pcs[:-1] if terminated else pcs):
            insn = slots[pc]
            assert insn is not None
            o.append("  " + self.body(pc, insn))
        if terminated:
            o.append("  " + self.terminator(last_pc, last))
        else:
            o.append("  " + self.goto_from(last_pc, last_pc + last.slots))

    def goto_from(self, pc: int, target: int) -> str:
        if _valid_target(self.slots, target):
            return f"goto L{target};"
        return f"TRAP({pc}, {self.trap(_bad_target(self.slots, target))});"

    def terminator(self, pc: int, insn: Instruction) -> str:
        op = insn.opcode & OP_MASK
        nxt = pc + 1
        if op == JmpOp.EXIT:
            return f"vm->last_exit = {pc}; vm->left = left; vm->pop(); return r0;"
        if op == JmpOp.JA:
            return self.goto_from(pc, _jump_target(pc, insn))
        if op == JmpOp.JCOND:
            return f"if (mg) {{ mg--; {self.goto_from(pc, nxt)} }} else {{ {self.goto_from(pc, _jump_target(pc, insn))} }}"
        if op == JmpOp.CALL:   # bpf_tail_call
            return (f"{{ int found = 0; vm->left = left; SAVE(); t = vm->tail(r1, r2, r3, &found); flush(vm); "
                    f"if (vm->status) {{ vm->fault_pc = {pc}; return 0; }} left = vm->left; if (found) return t; }} "
                    + self.goto_from(pc, nxt))
        return f"if ({self.condition(insn)}) {{ {self.goto_from(pc, _jump_target(pc, insn))} }} " \
               + self.goto_from(pc, nxt)

    def condition(self, insn: Instruction) -> str:
        wide = insn.opcode & CLASS_MASK == InsnClass.JMP
        op = insn.opcode & OP_MASK
        reg = insn.opcode & SOURCE_MASK == Source.X
        d, s = f"r{insn.dst}", f"r{insn.src}"
        sym = {JmpOp.JEQ: "==", JmpOp.JNE: "!=", JmpOp.JGT: ">", JmpOp.JGE: ">=", JmpOp.JLT: "<",
               JmpOp.JLE: "<=", JmpOp.JSGT: ">", JmpOp.JSGE: ">=", JmpOp.JSLT: "<", JmpOp.JSLE: "<="}.get(JmpOp(op))
        signed = op in (JmpOp.JSGT, JmpOp.JSGE, JmpOp.JSLT, JmpOp.JSLE)
        if wide:
            x = s if reg else _k64(insn.imm)
            if op == JmpOp.JSET:
                return f"{d} & {x}"
            return f"(s64){d} {sym} (s64){x}" if signed else f"{d} {sym} {x}"
        x = f"(u32){s}" if reg else _k32(insn.imm)
        if op == JmpOp.JSET:
            return f"(u32){d} & {x}"
        return f"(s32)(u32){d} {sym} (s32){x}" if signed else f"(u32){d} {sym} {x}"

    def body(self, pc: int, insn: Instruction) -> str:
        cls = insn.opcode & CLASS_MASK
        if cls in (InsnClass.ALU, InsnClass.ALU64):
            return self.alu(pc, insn)
        if cls == InsnClass.LDX or (cls in (InsnClass.ST, InsnClass.STX) and insn.opcode & MODE_MASK == Mode.MEM):
            return self.memory(pc, insn)
        if cls == InsnClass.STX:
            return self.atomic(pc, insn)
        if insn.opcode == LD_IMM64_OPCODE:
            d = f"r{insn.dst}"
            if insn.src == PseudoLoad.IMM64:
                return f"{d} = {_k64(insn.imm64)};"
            if insn.src == PseudoLoad.FUNC:
                target = pc + 1 + insn.imm
                if _valid_target(self.slots, target):
                    return f"{d} = vm->code_base + {target}ULL;"
                return f"TRAP({pc}, {self.trap(f'ld_imm64 names a function at pc {target}, which is not an instruction')});"
            self.pseudo.append(pc)
            i = len(self.pseudo) - 1
            return f"if (vm->pseudo[{2 * i + 1}]) TRAP({pc}, -2 - {i}); {d} = vm->pseudo[{2 * i}];"
        if insn.opcode == (InsnClass.JMP | JmpOp.CALL):
            if insn.src == PseudoCall.HELPER:
                return (f"vm->left = left; SAVE(); r0 = vm->helper({insn.imm}, r1, r2, r3, r4, r5); flush(vm); "
                        f"if (vm->status) {{ vm->fault_pc = {pc}; return 0; }} left = vm->left;")
            target = pc + 1 + insn.imm
            if _valid_target(self.slots, target):
                # r0 takes the result only once the call returned: a callee that could not start
                # (too deep) leaves the caller's registers as they were, as in Python
                return (f"vm->left = left; t = f{target}(vm, r1, r2, r3, r4, r5); "
                        f"if (vm->status) {{ if (vm->fault_pc == -3) {{ vm->fault_pc = {pc}; SAVE(); }} "
                        "return 0; } r0 = t; left = vm->left;")
            return f"TRAP({pc}, {self.trap('call to pc ' + str(target) + ': ' + _bad_target(self.slots, target))});"
        raise CUnsupported(f"instruction {insn.opcode:#04x}")

    def alu(self, pc: int, insn: Instruction) -> str:
        wide = insn.opcode & CLASS_MASK == InsnClass.ALU64
        op = insn.opcode & OP_MASK
        reg = insn.opcode & SOURCE_MASK == Source.X
        d, s = f"r{insn.dst}", f"r{insn.src}"
        if wide:
            x = s if reg else _k64(insn.imm)
            match op:
                case AluOp.ADD | AluOp.SUB | AluOp.MUL | AluOp.OR | AluOp.AND | AluOp.XOR:
                    sym = {AluOp.ADD: "+", AluOp.SUB: "-", AluOp.MUL: "*", AluOp.OR: "|", AluOp.AND: "&",
                           AluOp.XOR: "^"}[AluOp(op)]
                    return f"{d} = {d} {sym} {x};"
                case AluOp.DIV:
                    return f"{d} = sdiv64({d}, {x});" if insn.off == 1 else f"{d} = {x} ? {d} / {x} : 0;"
                case AluOp.MOD:
                    return f"{d} = smod64({d}, {x});" if insn.off == 1 else f"if ({x}) {d} = {d} % {x};"
                case AluOp.LSH:
                    return f"{d} = {d} << ({x} & 63);"
                case AluOp.RSH:
                    return f"{d} = {d} >> ({x} & 63);"
                case AluOp.ARSH:
                    return f"{d} = (u64)((s64){d} >> ({x} & 63));"
                case AluOp.NEG:
                    return f"{d} = -{d};"
                case AluOp.MOV:
                    if reg and insn.off in (8, 16, 32):
                        return f"{d} = (u64)(s64)(s{insn.off}){s};"
                    return f"{d} = {x};"
                case AluOp.END:
                    return {16: f"{d} = __builtin_bswap16((u16){d});", 32: f"{d} = __builtin_bswap32((u32){d});",
                            64: f"{d} = __builtin_bswap64({d});"}.get(insn.imm, ";")
            raise CUnsupported(f"ALU64 opcode {insn.opcode:#x}")
        x = f"(u32){s}" if reg else _k32(insn.imm)
        match op:
            case AluOp.ADD | AluOp.SUB | AluOp.MUL | AluOp.OR | AluOp.AND | AluOp.XOR:
                sym = {AluOp.ADD: "+", AluOp.SUB: "-", AluOp.MUL: "*", AluOp.OR: "|", AluOp.AND: "&",
                       AluOp.XOR: "^"}[AluOp(op)]
                return f"{d} = (u32)((u32){d} {sym} {x});"
            case AluOp.DIV:
                return f"{d} = sdiv32({d}, {x});" if insn.off == 1 else f"{d} = {x} ? (u32){d} / {x} : 0;"
            case AluOp.MOD:
                return f"{d} = smod32({d}, {x});" if insn.off == 1 else f"{d} = {x} ? (u32){d} % {x} : (u32){d};"
            case AluOp.LSH:
                return f"{d} = (u32)((u32){d} << ({x} & 31));"
            case AluOp.RSH:
                return f"{d} = (u32){d} >> ({x} & 31);"
            case AluOp.ARSH:
                return f"{d} = (u32)((s32)(u32){d} >> ({x} & 31));"
            case AluOp.NEG:
                return f"{d} = (u32)-(u32){d};"
            case AluOp.MOV:
                if reg and insn.off in (8, 16):
                    return f"{d} = (u32)(s32)(s{insn.off}){s};"
                return f"{d} = {x};"
            case AluOp.END:
                if insn.opcode & SOURCE_MASK:   # to big endian: swap, then truncate
                    return {16: f"{d} = __builtin_bswap16((u16){d});", 32: f"{d} = __builtin_bswap32((u32){d});",
                            64: f"{d} = __builtin_bswap64({d});"}.get(insn.imm, ";")
                return {16: f"{d} &= 0xffff;", 32: f"{d} &= 0xffffffffULL;"}.get(insn.imm, ";")
        raise CUnsupported(f"ALU opcode {insn.opcode:#x}")

    def memory(self, pc: int, insn: Instruction) -> str:
        cls = insn.opcode & CLASS_MASK
        size = Size(insn.opcode & SIZE_MASK)
        n = size.nbytes
        bits = 8 * n
        d, s = f"r{insn.dst}", f"r{insn.src}"
        base = insn.src if cls == InsnClass.LDX else insn.dst
        fast = self.stack and base == 10 and -STACK_SIZE <= insn.off and insn.off + n <= 0
        addr = f"(r{base} + {_k64(insn.off)})"
        if cls == InsnClass.LDX:
            if fast:
                ptr = f"(S + {STACK_SIZE + insn.off})"
            elif size == Size.W and insn.opcode & MODE_MASK != Mode.MEMSX:
                return f"if (!load32(vm, {addr}, &t)) FAULT(1, {pc}); {d} = t;"
            else:
                return (f"p = mem(vm, {addr}, {n}, 0); if (!p) FAULT(1, {pc}); "
                        + self._load(insn, size, d, "p"))
            return self._load(insn, size, d, ptr)
        value = _k64(insn.imm) if cls == InsnClass.ST else s
        if fast:
            return f"st{bits}(S + {STACK_SIZE + insn.off}, {value});"
        return f"p = mem(vm, {addr}, {n}, 1); if (!p) FAULT(1, {pc}); st{bits}(p, {value});"

    @staticmethod
    def _load(insn: Instruction, size: Size, d: str, ptr: str) -> str:
        bits = 8 * size.nbytes
        if insn.opcode & MODE_MASK == Mode.MEMSX:
            return f"{d} = (u64)(s64)(s{bits})ld{bits}({ptr});"
        return f"{d} = ld{bits}({ptr});"

    def atomic(self, pc: int, insn: Instruction) -> str:
        wide = insn.opcode & SIZE_MASK == Size.DW
        bits = 64 if wide else 32
        mask = "" if wide else "(u32)"
        s = f"r{insn.src}"
        head = f"p = mem(vm, (r{insn.dst} + {_k64(insn.off)}), {bits // 8}, 1); if (!p) FAULT(1, {pc}); t = ld{bits}(p); "
        match insn.imm:
            case AtomicOp.XCHG:
                return head + f"st{bits}(p, {s}); {s} = t;"
            case AtomicOp.CMPXCHG:
                return head + f"if (t == {mask}r0) st{bits}(p, {s}); r0 = t;"
        op = insn.imm & ~ATOMIC_FETCH
        sym = {AtomicOp.ADD: "+", AtomicOp.OR: "|", AtomicOp.AND: "&", AtomicOp.XOR: "^"}.get(AtomicOp(op))
        if sym is None:
            raise CUnsupported(f"atomic op {insn.imm:#x}")
        text = head + f"st{bits}(p, t {sym} {s});"
        if insn.imm & ATOMIC_FETCH:
            text += f" {s} = t;"
        return text


def translate_c(insns: Sequence[Instruction]) -> CSource:
    """The C source of a program (CUnsupported if it uses what the backend lacks)."""
    return _CGen(insns).generate()


# --- compiling -------------------------------------------------------------------------------

def c_compiler() -> list[str] | None:
    """The command that compiles C here (None: no compiler)."""
    for var in ("BPFBUILD_CC", "CC"):
        value = os.environ.get(var)
        if value:
            return value.split()
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return [path]
    try:
        import importlib.util
        if importlib.util.find_spec("ziglang") is not None:
            return [sys.executable, "-m", "ziglang", "cc"]
    except (ImportError, ValueError):
        pass
    return None


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bpfbuild" / "vm-c"


def compile_c(source: str) -> ctypes.CDLL | None:
    """Compile ``source`` to a shared object (cached by its hash) and load it; None if there
    is no compiler or it fails (the caller runs the Python translation instead)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    out = _cache_dir() / f"{digest}.so"
    if not out.exists():
        cc = c_compiler()
        if cc is None:
            return None
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            src = Path(tmp) / "prog.c"
            src.write_text(source)
            obj = Path(tmp) / "prog.so"
            try:
                res = subprocess.run([*cc, "-O2", "-shared", "-fPIC", "-fwrapv", "-w", "-o", str(obj), str(src)],
                                     capture_output=True, text=True, timeout=300, check=False)
            except (OSError, subprocess.TimeoutExpired):
                return None
            if res.returncode or not obj.exists():
                return None
            os.replace(obj, out)
    try:
        return ctypes.CDLL(str(out))
    except OSError:
        return None


class CProgram:
    """A compiled program: ``entry(e)`` is the C function of the function at pc ``e``."""

    def __init__(self, source: CSource, lib: ctypes.CDLL) -> None:
        self.source = source
        self.lib = lib
        self.functions = {}
        for e in source.entries:
            fn = getattr(lib, f"bpf_entry_{e}")
            fn.restype = ctypes.c_uint64
            fn.argtypes = [ctypes.POINTER(VmStruct)] + [ctypes.c_uint64] * 5
            self.functions[e] = fn


class CCache:
    """C programs by instruction tuple (None: the program runs in Python)."""

    def __init__(self) -> None:
        self._items: dict[tuple[Instruction, ...], CProgram | None] = {}
        # the same tuple object again: found by identity, without hashing every instruction
        self._same: dict[int, tuple[tuple[Instruction, ...], CProgram | None]] = {}

    def get(self, insns: tuple[Instruction, ...]) -> CProgram | None:
        same = self._same.get(id(insns))
        if same is not None and same[0] is insns:
            return same[1]
        program = self._get(insns)
        if len(self._same) >= 256:
            self._same.pop(next(iter(self._same)))
        self._same[id(insns)] = (insns, program)
        return program

    def _get(self, insns: tuple[Instruction, ...]) -> CProgram | None:
        if insns in self._items:
            return self._items[insns]
        program: CProgram | None = None
        try:
            if invalid_forms(insns):   # dead code the kernel accepts: the Python translation traps there
                raise CUnsupported("invalid instruction forms")
            source = translate_c(insns)
        except CUnsupported:
            source = None
        if source is not None:
            lib = compile_c(source.text)
            program = CProgram(source, lib) if lib is not None else None
        self._items[insns] = program
        return program


#: compiled programs of this process (pure memoisation, like compiler.SHARED_CACHE)
SHARED_C = CCache()


# --- running ---------------------------------------------------------------------------------

class CLink:
    """Binds a compiled C program to a machine's link: callbacks into Python, the fault path."""

    def __init__(self, program: CProgram, link: Any) -> None:
        self.program = program
        self.link = link
        rt = link.rt
        self.rt = rt
        self.exc: BaseException | None = None
        vm = VmStruct()
        vm.code_base = link.code_base
        values: list[int] = []
        self.pseudo_traps: list[BaseException | None] = []
        slots = link.compiled.slots
        for pc in program.source.pseudo:
            insn = slots[pc]
            v = link.pseudo(pc, insn.src, insn.imm, insn.imm_hi)
            if isinstance(v, int):
                values += [v & _M64, 0]
                self.pseudo_traps.append(None)
            else:
                values += [0, 1]
                self.pseudo_traps.append(v)
        self._pseudo = (ctypes.c_uint64 * max(len(values), 1))(*values)
        vm.pseudo = ctypes.cast(self._pseudo, ctypes.POINTER(ctypes.c_uint64))
        memory = rt.memory
        readable, writable = memory.readable, memory.writable

        def resolve(key: int, out: Any) -> int:
            buf = readable.get(key)
            if buf is None or not len(buf):
                return 0
            r = out.contents
            r.key = key
            r.ptr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
            r.len = len(buf)
            r.flags = (1 if key in writable else 0) | (0 if buf.__class__ is bytearray else 2)
            return 1

        def helper(ident: int, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
            rt.budget[0] = vm.left
            try:
                r0 = rt.helper(ident)(r1, r2, r3, r4, r5) & _M64
            except BaseException as exc:  # noqa: BLE001 - carried to the fault path
                self.exc = exc
                vm.status = ST_EXC
                return 0
            vm.left = rt.budget[0]
            return r0

        def push() -> int:
            try:
                return rt.push_frame()
            except BaseException as exc:  # noqa: BLE001
                self.exc = exc
                vm.status = ST_EXC
                return 0

        def pop() -> None:
            rt.pop_frame()

        def tail(r1: int, r2: int, r3: int, found: Any) -> int:
            rt.budget[0] = vm.left
            try:
                target = rt.tail_call(r1, r2, r3)
                if target is None:
                    return 0
                rt.pop_frame()
                r0 = target(r1)
            except BaseException as exc:  # noqa: BLE001
                self.exc = exc
                vm.status = ST_EXC
                return 0
            found[0] = 1
            vm.left = rt.budget[0]
            vm.last_exit = -1   # the tail-called program's exit is the last one
            return r0 & _M64

        def load32(key: int, off: int) -> int:
            return int(readable[key].load32(off)) & _M64

        self._callbacks = (_RESOLVE(resolve), _HELPER(helper), _PUSH(push), _POP(pop), _TAIL(tail), _LOAD32(load32))
        vm.resolve, vm.helper, vm.push, vm.pop, vm.tail, vm.load32 = self._callbacks
        self.vm = vm
        self.vm_ref = ctypes.byref(vm)

    def entry(self, e: int) -> Any:
        fn = self.program.functions[e]
        vm, ref, rt, link = self.vm, self.vm_ref, self.rt, self.link
        memset, cache, cache_size = ctypes.memset, ctypes.addressof(vm.cache), ctypes.sizeof(vm.cache)

        def run(r1: int = 0, r2: int = 0, r3: int = 0, r4: int = 0, r5: int = 0) -> int:
            vm.left = rt.budget[0]
            vm.status = 0
            vm.last_exit = -2
            memset(cache, 0, cache_size)   # regions may have moved since the last call
            r0 = fn(ref, r1, r2, r3, r4, r5)
            rt.budget[0] = vm.left
            if vm.status:
                raise self.fault(e)
            if vm.last_exit >= 0:
                rt.last_exit[0] = vm.last_exit
                rt.last_exit[1] = link
            return int(r0)

        return run

    def fault(self, entry: int) -> BaseException:
        from bpfbuild.vm.memory import Trap
        vm = self.vm
        status, pc = vm.status, vm.fault_pc
        regs = tuple(int(v) for v in vm.regs)
        vm.status = 0
        link = self.link
        if status == ST_EXC:
            exc, self.exc = self.exc, None
            assert exc is not None
            if not isinstance(exc, Exception) or pc == -3:   # -3: no frame: the caller's fault
                return exc
        elif status == ST_MEM:
            exc = KeyError(pc)   # a failed access: the message comes from the instruction and regs
        elif status == ST_BUDGET:
            exc = Trap(f"the step budget of {link.rt.limit} instructions is exhausted (an endless loop?)")
        else:
            tid = vm.trap_id
            if tid <= -2:
                exc = self.pseudo_traps[-2 - tid] or Trap("ld_imm64 is not emulated")
            else:
                exc = Trap(self.program.source.traps[tid])
        return link.fault(exc, regs, entry, at=pc)
