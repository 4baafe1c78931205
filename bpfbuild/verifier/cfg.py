"""Structural checks before any path is walked, in the kernel's order.

``add_subprog_and_kfunc`` (functions start where calls point), ``check_subprogs`` (jumps stay
inside their function, no fall-through into the next), ``resolve_pseudo_ldimm64`` (reserved
fields of loads, ``ld_imm64`` pairs, unknown opcodes), ``check_cfg`` (every instruction
reachable, back-edges only for a privileged loader, no jump into an ``ld_imm64``; marks the
prune points) and ``compute_live_registers`` (which registers a later instruction may read).

The input is the program as raw slots ``(code, dst, src, off, imm)``, so that any bytes can be
checked; the output is :attr:`Env.insns`, one :class:`~bpfbuild.isa.Instruction` per starting
slot (``None`` for the second slot of an ``ld_imm64``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.abi.protos import (
    ArgType,
    BpfFunc,
    func_proto,
    helper_allowed,
    is_async_callback_helper,
    is_sync_callback_helper,
)
from bpfbuild.isa.fields import (
    CLASS_MASK,
    MODE_MASK,
    OP_MASK,
    SOURCE_MASK,
    InsnClass,
    JmpOp,
    Mode,
    PseudoCall,
    PseudoLoad,
    Size,
)
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.isa.opcodes import opcode_table
from bpfbuild.verifier import funcinfo
from bpfbuild.verifier.env import Aux, Env, Subprog
from bpfbuild.verifier.fields import check_map_prog_compatibility
from bpfbuild.verifier.liveness import StackLiveness
from bpfbuild.verifier.opkinds import CALL as _V_CALL  # how check_cfg visits each opcode
from bpfbuild.verifier.opkinds import COND as _V_COND
from bpfbuild.verifier.opkinds import EXIT as _V_EXIT
from bpfbuild.verifier.opkinds import JA as _V_JA
from bpfbuild.verifier.opkinds import LD64 as _V_LD64
from bpfbuild.verifier.opkinds import PLAIN as _V_PLAIN
from bpfbuild.verifier.opkinds import visit_kind
from bpfbuild.verifier.kfunc_btf import is_iter_next_call, is_sync_callback_kfunc, kfunc_nargs
from bpfbuild.verifier.ksym import check_pseudo_btf_id

__all__ = ["RawSlot", "check_structure", "proto_nargs", "unmodelled_helper_nargs"]

RawSlot = tuple[int, int, int, int, int]   # code, dst, src, off, imm

# plain ints for the per-slot loops: reading an IntEnum member off its class is slow on 3.11
_CALL = int(InsnClass.JMP | JmpOp.CALL)
_EXIT = int(InsnClass.JMP | JmpOp.EXIT)
_JA = int(InsnClass.JMP | JmpOp.JA)
_JA32 = int(InsnClass.JMP32 | JmpOp.JA)
_JCOND = int(InsnClass.JMP | JmpOp.JCOND)
_LD_IMM64 = int(LD_IMM64_OPCODE)
_CLS_LDX = int(InsnClass.LDX)
_JMP_CLASSES = (int(InsnClass.JMP), int(InsnClass.JMP32))
_MODE_MEM = int(Mode.MEM)
_MODE_MEMSX = int(Mode.MEMSX)
_PSEUDO_HELPER = int(PseudoCall.HELPER)
_PSEUDO_CALL = int(PseudoCall.CALL)
_PSEUDO_KFUNC = int(PseudoCall.KFUNC)
_PSEUDO_FUNC = int(PseudoLoad.FUNC)
_PSEUDO_IMM64 = int(PseudoLoad.IMM64)
_BTF_ID = int(PseudoLoad.BTF_ID)
_MAP_FD = int(PseudoLoad.MAP_FD)
_MAP_IDX = int(PseudoLoad.MAP_IDX)
_MAP_VALUE = int(PseudoLoad.MAP_VALUE)
_MAP_IDX_VALUE = int(PseudoLoad.MAP_IDX_VALUE)
_ARRAY = int(MapType.ARRAY)
_TAIL_CALL = int(BpfFunc.tail_call)


@functools.cache
def _known_opcodes() -> frozenset[int]:
    """``bpf_opcode_in_insntable`` of Linux 6.18 (measured: our table minus callx, plus the
    8/16-bit STX|ATOMIC codes of load-acquire/store-release)."""
    table = opcode_table()
    codes = {c for c in range(256) if table.entry(c) is not None}
    codes.discard(InsnClass.JMP | JmpOp.CALL | 0x08)
    codes |= {InsnClass.STX | Mode.ATOMIC | Size.B, InsnClass.STX | Mode.ATOMIC | Size.H}
    return frozenset(codes)


def _is_pseudo_call(s: RawSlot) -> bool:
    return s[0] == _CALL and s[2] == PseudoCall.CALL


def _is_pseudo_func(s: RawSlot) -> bool:
    return s[0] == LD_IMM64_OPCODE and s[2] == PseudoLoad.FUNC


def _is_kfunc_call(s: RawSlot) -> bool:
    return s[0] == _CALL and s[2] == PseudoCall.KFUNC


def _jmp_offset(s: RawSlot) -> int:
    return s[4] if s[0] == _JA32 else s[3]


def check_structure(env: Env, slots: Sequence[RawSlot],
                    decoded: Sequence[Instruction | None] | None = None) -> None:
    """Run every structural check; fills ``env.insns``, ``env.subprogs``, ``env.aux``.

    ``decoded`` (optional) holds, by slot, instructions equal to what the slots make (``None``
    on second slots): they are used as they are instead of being built again.
    Raises :class:`~bpfbuild.errors.ProgramError` with the kernel's message on the first failure.
    """
    _add_subprogs(env, slots)
    _check_subprogs(env, slots)
    funcinfo.check_func_returns(env)   # check_btf_info: tail calls and LD_ABS need an int return
    _resolve(env, slots, decoded)
    env.aux = [Aux() for _ in range(len(slots))]
    loops, callbacks = _check_cfg(env)
    # without a back-edge the graph has no cycle, so only an instruction that runs a callback
    # (an implicit loop) can be a strongly connected component
    if loops or callbacks:
        for pc, scc in compute_scc(env).items():
            env.aux[pc].scc = scc
    _compute_live_registers(env)
    env.stack_live = StackLiveness(env)


def _add_subprogs(env: Env, slots: Sequence[RawSlot]) -> None:
    n = len(slots)
    starts = {0}
    call = _CALL
    ld64 = _LD_IMM64
    for i, s in enumerate(slots):
        code = s[0]
        if code == call:
            kfunc = s[2] == _PSEUDO_KFUNC
            if not kfunc and s[2] != _PSEUDO_CALL:
                continue
        elif code == ld64 and s[2] == _PSEUDO_FUNC:
            kfunc = False
        else:
            continue
        if not env.bpf_capable:
            raise env.error("loading/calling other bpf or kernel functions are allowed for CAP_BPF "
                            "and CAP_SYS_ADMIN", i)
        if kfunc:
            if not env.gpl:
                raise env.error("cannot call kernel function from non-GPL compatible program", i)
            continue
        target = i + s[4] + 1
        if target < 0 or target >= n:
            raise env.error("call to invalid destination", i)
        starts.add(target)
    ordered = sorted(starts)
    env.subprogs = [Subprog(start, end) for start, end in zip(ordered, [*ordered[1:], n], strict=True)]
    names = env.func_names
    global_funcs = env.global_funcs
    global_args = env.global_args
    for sp in env.subprogs:
        start = sp.start
        sp.name = names.get(start, "")
        sp.is_global = start in global_funcs and start != 0
        sp.args = global_args.get(start)
    if env.log.level >= 2:
        for i, sp in enumerate(env.subprogs):
            env.verbose(f"func#{i} @{sp.start}\n")


#: what check_subprogs looks at in an opcode byte (derived from the field enums)
_F_CALL = 1      # a call (helpers, functions, kfuncs)
_F_LD_ABS = 2    # a legacy packet load
_F_JUMP = 4      # a jump that has a target (neither a call nor an exit)


def _slot_flags(code: int) -> int:
    cls = code & CLASS_MASK
    if code == _CALL:
        return _F_CALL
    if cls == InsnClass.LD and code & MODE_MASK in (Mode.ABS, Mode.IND):
        return _F_LD_ABS
    if cls in (InsnClass.JMP, InsnClass.JMP32) and code & OP_MASK not in (JmpOp.CALL, JmpOp.EXIT):
        return _F_JUMP
    return 0


class _ByOpcode(dict):  # type: ignore[type-arg]
    """A fact of every opcode byte, computed once; a value outside a byte (only bytecode given
    as hand-made instructions has one) is computed when asked."""

    def __init__(self, fact: Callable[[int], object]) -> None:
        super().__init__((code, fact(code)) for code in range(256))
        self.fact = fact
        #: the same facts as a list: faster to index where every opcode is known to be a byte
        #: (after ``_resolve``, which refuses the opcodes the kernel does not know)
        self.bytes = [self[code] for code in range(256)]

    def __missing__(self, code: int) -> object:
        return self.fact(code)


_SLOT_FLAGS = _ByOpcode(_slot_flags)


@functools.cache
def _helper_changes_pkt_data(func_id: int, prog_type: ProgType) -> bool:
    """A helper call that may move packet data (a tail call counts: the callee may)."""
    if func_id == _TAIL_CALL:
        return True
    proto = func_proto(func_id, prog_type)
    return proto is not None and proto.changes_pkt_data


def _check_subprogs(env: Env, slots: Sequence[RawSlot]) -> None:
    calls: list[tuple[int, int]] = []   # (caller subprog, callee start)
    flags = _SLOT_FLAGS
    prog_type = env.prog_type
    for n, sp in enumerate(env.subprogs):
        start = sp.start
        end = sp.end
        for i in range(start, end):
            s = slots[i]
            f = flags[s[0]]
            if not f:
                continue
            code, _, src, off, imm = s
            if f == _F_CALL:
                if src == _PSEUDO_HELPER:
                    if imm == _TAIL_CALL:
                        sp.has_tail_call = True
                        sp.changes_pkt_data = True
                    elif _helper_changes_pkt_data(imm, prog_type):
                        sp.changes_pkt_data = True
                elif src == _PSEUDO_CALL:
                    calls.append((n, i + imm + 1))
            elif f == _F_LD_ABS:
                sp.has_ld_abs = True
            else:
                t = i + (imm if code == _JA32 else off) + 1
                if t < start or t >= end:
                    raise env.error(f"jump out of range from insn {i} to {t}", i)
        if slots[end - 1][0] not in (_EXIT, _JA32, _JA):
            raise env.error("last insn is not an exit or jmp", end - 1)
    # a caller's packet pointers die when any function it calls may change packet data
    if not calls:
        return
    starts = {sp.start: n for n, sp in enumerate(env.subprogs)}
    changed = True
    while changed:
        changed = False
        for caller, target in calls:
            callee = starts.get(target)
            if callee is not None and env.subprogs[callee].changes_pkt_data \
                    and not env.subprogs[caller].changes_pkt_data:
                env.subprogs[caller].changes_pkt_data = changed = True


def _resolve(env: Env, slots: Sequence[RawSlot], decoded: Sequence[Instruction | None] | None = None) -> None:
    """``resolve_pseudo_ldimm64`` + the opcode sanity check; builds ``env.insns``."""
    if decoded is not None:
        _check_slots(env, slots)
        env.insns = list(decoded)
        return
    n = len(slots)
    insns: list[Instruction | None] = []
    append = insns.append
    ld64 = _LD_IMM64
    i = 0
    while i < n:
        code, dst, src, off, imm = slots[i]
        _check_slot(env, slots, i)
        if code == ld64:
            append(Instruction(code, dst, src, off, imm, slots[i + 1][4]))
            append(None)
            i += 2
            continue
        append(Instruction(code, dst, src, off, imm))
        i += 1
    env.insns = insns


def _check_slots(env: Env, slots: Sequence[RawSlot]) -> None:
    """:func:`_check_slot` of every instruction (the ``ld_imm64`` pairs' first slots), looking
    closer only at the slots whose opcode needs it."""
    table = _RESOLVE_KIND
    skip = -1     # the second slot of the last ld_imm64
    for i, s in enumerate(slots):
        k = table[s[0]]
        if k == _R_OK:
            continue
        if k == _R_LDX_IMM:
            if s[4] != 0:
                raise env.error("BPF_LDX uses reserved fields", i)
            continue
        if i == skip:
            continue
        _check_slot(env, slots, i)
        if s[0] == _LD_IMM64:
            skip = i + 1


def _check_slot(env: Env, slots: Sequence[RawSlot], i: int) -> None:
    """The checks of the instruction starting at slot ``i``: the reserved fields of a load, an
    ``ld_imm64`` pair and what it loads, a known opcode."""
    code, _dst, src, _off, imm = slots[i]
    if code & CLASS_MASK == _CLS_LDX and (code & MODE_MASK not in (_MODE_MEM, _MODE_MEMSX) or imm != 0):
        raise env.error("BPF_LDX uses reserved fields", i)
    if code == _LD_IMM64:
        if i == len(slots) - 1 or any(slots[i + 1][:4]):
            raise env.error("invalid bpf_ld_imm64 insn", i)
        if src != _PSEUDO_IMM64 and src != _PSEUDO_FUNC:
            _check_map_load(env, i, src, imm, slots[i + 1][4])
        return
    if code not in _known_opcodes():
        raise env.error(f"unknown opcode {code:02x}", i)


#: how :func:`_check_slots` looks at an opcode byte
_R_OK = 0          # a known opcode that is neither a load from memory nor an ld_imm64
_R_LDX_IMM = 1     # a known load from memory: its imm must be 0
_R_CHECK = 2       # anything else: :func:`_check_slot`


def _resolve_kind(code: int) -> int:
    if code == _LD_IMM64 or code not in _known_opcodes():
        return _R_CHECK
    if code & CLASS_MASK == _CLS_LDX:
        return _R_LDX_IMM if code & MODE_MASK in (_MODE_MEM, _MODE_MEMSX) else _R_CHECK
    return _R_OK


_RESOLVE_KIND = _ByOpcode(_resolve_kind)


def _check_map_load(env: Env, i: int, src: int, imm: int, hi: int) -> None:
    if src == _BTF_ID:
        check_pseudo_btf_id(env, i, imm, hi)
        return
    by_value = src == _MAP_VALUE or src == _MAP_IDX_VALUE
    if not by_value and src != _MAP_FD and src != _MAP_IDX:
        raise env.error("unrecognized bpf_ld_imm64 insn", i)
    if not by_value and hi != 0:
        raise env.error("unrecognized bpf_ld_imm64 insn", i)
    if (src == _MAP_FD or src == _MAP_VALUE) and i in env.raw_map_loads:
        # a hand-written fd number: the loader's stdin/stdout/stderr (or nothing) are no maps;
        # what a higher number names depends on the loading process
        if imm >= 3:
            env.not_modelled(f"insn {i}: a map referenced by the raw fd number {imm}")
        raise env.error(f"fd {imm} is not pointing to valid bpf_map", i)
    maps = env.maps
    if not 0 <= imm < len(maps):
        raise env.error(f"fd {imm} is not pointing to valid bpf_map", i)
    m = maps[imm]
    check_map_prog_compatibility(env, m, i)
    if by_value:
        off = hi & 0xFFFFFFFF
        if off >= 1 << 29:
            raise env.error(f"direct value offset of {off} is not allowed", i)
        if m.map_type != _ARRAY:   # only arrays have map_direct_value_addr here
            raise env.error("no direct value access support for this map type", i)
        if m.max_entries != 1 or off >= m.value_size:
            raise env.error(f"invalid access to map value pointer, value_size={m.value_size} off={off}", i)


# ---- control flow ---------------------------------------------------------------------------------

_DISCOVERED = 0x10
_EXPLORED = 0x20
_FALLTHROUGH = 1
_BRANCH = 2

#: how check_cfg visits an instruction, by opcode byte
_VISIT_KIND = _ByOpcode(visit_kind)


def _check_cfg(env: Env) -> tuple[bool, bool]:
    """``check_cfg``; returns whether the depth-first walk met a back-edge (a loop) and whether
    an instruction calls a callback."""
    forward = _check_cfg_forward(env)
    if forward is not None:
        return False, forward
    return _check_cfg_dfs(env)


def _check_cfg_forward(env: Env) -> bool | None:
    """``check_cfg`` of a program whose every edge leads forward, in one pass in program order
    (whether an instruction calls a callback); None, having marked nothing, when it is not such a
    program or has anything the depth-first walk of :func:`_check_cfg_dfs` must report or look up
    in its order (an unreachable instruction, a jump out of range or into an ``ld_imm64``, a
    kfunc call).

    With forward edges only, the walk meets no back-edge, and it marks the same instructions
    whatever its order: the targets of the edges of every reachable instruction."""
    insns = env.insns
    n = len(insns)
    kinds = _VISIT_KIND.bytes
    reach = bytearray(n)
    reach[0] = 1
    marks: list[tuple[int, int]] = []     # (pc, what), set on the Aux records once all is known good
    jmp32 = _JMP_CLASSES[1]
    for t in range(n):
        insn = insns[t]
        if insn is None:
            continue
        if not reach[t]:
            return None
        kind = kinds[insn.opcode]
        if kind == _V_PLAIN:
            if t + 1 >= n:
                return None
            reach[t + 1] = 1
        elif kind == _V_COND:
            w = t + insn.off + 1
            if w <= t or w >= n or insns[w] is None or t + 1 >= n:
                return None
            reach[t + 1] = reach[w] = 1
            marks.append((t, _M_COND_JCOND if insn.opcode == _JCOND else _M_PRUNE))
            marks.append((w, _M_TARGET))
        elif kind == _V_EXIT:
            pass
        elif kind == _V_JA:
            w = t + (insn.imm if insn.opcode & CLASS_MASK == jmp32 else insn.off) + 1
            if w <= t or w >= n or insns[w] is None:
                return None
            reach[w] = 1
            marks.append((w, _M_TARGET))
        elif kind == _V_LD64:
            if insn.src == _PSEUDO_FUNC or t + 2 >= n:
                return None
            reach[t + 2] = 1
        else:   # _V_CALL
            src = insn.src
            if t + 1 >= n or (src != _PSEUDO_HELPER and src != _PSEUDO_CALL):
                return None
            reach[t + 1] = 1
            marks.append((t + 1, _M_TARGET))
            if src == _PSEUDO_CALL:
                w = t + insn.imm + 1
                if w <= t or w >= n or insns[w] is None:
                    return None
                reach[w] = 1
                marks.append((t, _M_PRUNE))
                marks.append((w, _M_TARGET))
            else:
                if is_async_callback_helper(insn.imm):
                    marks.append((t, _M_PRUNE))
                if is_sync_callback_helper(insn.imm):
                    marks.append((t, _M_CALLBACK))
    aux = env.aux
    callbacks = False
    for pc, what in marks:
        a = aux[pc]
        if what == _M_TARGET:
            a.prune_point = True
            a.jmp_point = True
        elif what == _M_PRUNE:
            a.prune_point = True
        elif what == _M_COND_JCOND:
            a.prune_point = True
            a.force_checkpoint = True
        else:
            _mark_callback(a)
            callbacks = True
    return callbacks


#: what :func:`_check_cfg_forward` marks on an instruction
_M_TARGET = 0        # a branch target or the instruction after a call: prune and jump point
_M_PRUNE = 1
_M_COND_JCOND = 2    # may_goto: a prune point and a forced checkpoint
_M_CALLBACK = 3      # a helper that calls a callback (:func:`_mark_callback`)


def _check_cfg_dfs(env: Env) -> tuple[bool, bool]:
    """``check_cfg`` as the kernel walks it: depth first, from the first instruction."""
    insns = env.insns
    n = len(insns)
    aux = env.aux
    state = [0] * n
    stack = [0]
    state[0] = _DISCOVERED
    back_edges = []
    callbacks = False
    kinds = _VISIT_KIND.bytes
    capable = env.bpf_capable

    def push(t: int, w: int, e: int) -> int:
        """1 = keep exploring, 0 = done with this edge."""
        if state[t] >= _DISCOVERED | e:     # this edge (fall-through 1, branch 2) was taken already
            return 0
        if w < 0 or w >= n:
            raise env.error(f"jump out of range from insn {t} to {w}", t)
        if e == _BRANCH:
            a = aux[w]
            a.prune_point = True
            a.jmp_point = True
        sw = state[w]
        if sw == 0:
            state[t] = _DISCOVERED | e
            state[w] = _DISCOVERED
            stack.append(w)
            return 1
        if sw & 0xF0 == _DISCOVERED:
            if capable:
                back_edges.append(t)
                return 0
            raise env.error(f"back-edge from insn {t} to {w}", t)
        state[t] = _DISCOVERED | e
        return 0

    def visit_call(t: int, size: int, callee: int | None) -> int:
        r = push(t, t + size, _FALLTHROUGH)
        if r:
            return r
        if t + size < n:
            a = aux[t + size]
            a.prune_point = True
            a.jmp_point = True
        if callee is not None:
            aux[t].prune_point = True
            return push(t, callee, _BRANCH)
        return 0

    while stack:
        t = stack[-1]
        insn = insns[t]
        if insn is None:  # a jump into the second slot of an ld_imm64: its opcode 0 falls through
            r = push(t, t + 1, _FALLTHROUGH)
        else:
            kind = kinds[insn.opcode]
            if kind == _V_PLAIN:
                # push(t, t + 1, _FALLTHROUGH), inline: most instructions take this way twice
                if state[t] >= _DISCOVERED | _FALLTHROUGH:
                    r = 0
                elif t + 1 < n and state[t + 1] == 0:
                    state[t] = _DISCOVERED | _FALLTHROUGH
                    state[t + 1] = _DISCOVERED
                    stack.append(t + 1)
                    continue
                else:
                    r = push(t, t + 1, _FALLTHROUGH)
            elif kind == _V_COND:
                a = aux[t]
                a.prune_point = True
                if insn.opcode == _JCOND:
                    a.force_checkpoint = True
                r = push(t, t + 1, _FALLTHROUGH) or push(t, t + insn.off + 1, _BRANCH)
            elif kind == _V_LD64:
                if insn.src == _PSEUDO_FUNC:
                    r = visit_call(t, 2, t + insn.imm + 1)
                else:
                    r = push(t, t + 2, _FALLTHROUGH)
            elif kind == _V_EXIT:
                r = 0
            elif kind == _V_CALL:
                src = insn.src
                if state[t] != _DISCOVERED:
                    pass    # visited before: its marks are set (kfuncs are looked up in the BTF once)
                elif src == _PSEUDO_HELPER:
                    if is_async_callback_helper(insn.imm):
                        aux[t].prune_point = True
                    if is_sync_callback_helper(insn.imm):
                        _mark_callback(aux[t])
                        callbacks = True
                elif src == _PSEUDO_KFUNC:
                    if is_iter_next_call(env, insn):
                        # checkpoints at iter_next() make open-coded iterator loops converge
                        a = aux[t]
                        a.prune_point = True
                        a.force_checkpoint = True
                        a.iter_next = True
                    if is_sync_callback_kfunc(env, insn):
                        _mark_callback(aux[t])
                        callbacks = True
                r = visit_call(t, 1, t + insn.imm + 1 if src == _PSEUDO_CALL else None)
            else:   # _V_JA
                w = t + (insn.imm if insn.opcode & CLASS_MASK == _JMP_CLASSES[1] else insn.off) + 1
                r = push(t, w, _FALLTHROUGH)
                if not r:
                    a = aux[w]
                    a.prune_point = True
                    a.jmp_point = True
        if r == 0:
            state[t] = _EXPLORED
            stack.pop()
    i = 0
    while i < n:
        if state[i] != _EXPLORED:
            raise env.error(f"unreachable insn {i}", i)
        insn = insns[i]
        if insn is not None and insn.opcode == _LD_IMM64:
            if state[i + 1] != 0:
                raise env.error(f"jump into the middle of ldimm64 insn {i}", i)
            i += 2
            continue
        i += 1
    return bool(back_edges), callbacks


def _mark_callback(a: Aux) -> None:
    a.calls_callback = True
    a.force_checkpoint = True
    a.prune_point = True
    a.jmp_point = True


# ---- liveness ---------------------------------------------------------------------------------

_ALL = 0xFFFF
_CALLER_SAVED = 0x3F


def _helper_nargs(func_id: int, prog_type: ProgType, target: object) -> int:
    """``get_call_summary`` of a helper call (5 when unknown): a pure function of the helper,
    the program type and the target kernel (``abi.target.Target``, frozen), kept in
    :data:`_HELPER_NARGS`."""
    key = (func_id, int(prog_type), id(target))
    known = _HELPER_NARGS.get(key)
    if known is not None and known[0] is target:
        return known[1]
    if helper_allowed(func_id, prog_type, sleepable=True, target=target) is False:  # type: ignore[arg-type]
        n = 5
    else:
        proto = func_proto(func_id, prog_type)
        n = unmodelled_helper_nargs(prog_type, func_id) if proto is None else proto_nargs(proto)
    if len(_HELPER_NARGS) >= 512:    # a bound on the targets kept alive (as the lru_cache had)
        _HELPER_NARGS.clear()
    _HELPER_NARGS[key] = (target, n)
    return n


#: (helper, program type, id of the target) -> (that target, :func:`_helper_nargs`): keyed by
#: the target's identity (it is kept, so the id names it), not its value -- hashing a Target
#: (a frozen dataclass of many fields) on every call cost more than the answer
_HELPER_NARGS: dict[tuple[int, int, int], tuple[object, int]] = {}


def _call_params(env: Env, insn: Instruction) -> int:
    """``get_call_summary``: how many argument registers a helper call reads (5 when unknown)."""
    src = insn.src
    if src == _PSEUDO_KFUNC:
        nargs = kfunc_nargs(env, insn)
        return 5 if nargs is None else nargs
    if src != _PSEUDO_HELPER or not 0 < insn.imm <= 211:
        return 5
    return _helper_nargs(insn.imm, env.prog_type, env.kernel)


def proto_nargs(proto: object) -> int:
    """How many arguments a helper's verifier prototype takes: those before its first
    ``ARG_DONTCARE``."""
    n = 0
    for arg in proto.args:  # type: ignore[attr-defined]
        if arg.base == ArgType.ARG_DONTCARE:
            break
        n += 1
    return n


#: tc and lwt: bpf_get_cgroup_classid(skb)
_SKB_CLASSID_TYPES = frozenset({ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.LWT_IN, ProgType.LWT_OUT,
                                ProgType.LWT_XMIT, ProgType.LWT_SEG6LOCAL})


def unmodelled_helper_nargs(prog_type: int, func_id: int) -> int:
    """How many arguments a helper without a verifier prototype takes: its documented parameters
    (bpf_get_cgroup_classid takes none outside tc and lwt programs); 5 when unknown."""
    from bpfbuild.abi.helpers import helper_signature

    if func_id == BpfFunc.get_cgroup_classid and prog_type not in _SKB_CLASSID_TYPES:
        return 0
    sig = helper_signature(func_id)
    return len(sig.params) if sig is not None else 5


def _use_def(env: Env, insn: Instruction) -> tuple[int, int]:
    """``compute_insn_live_regs``: (registers read, registers written)."""
    code = insn.opcode
    cls = code & CLASS_MASK
    mode = code & MODE_MASK
    op = code & OP_MASK
    src = 1 << insn.src if insn.src < 16 else 0
    dst = 1 << insn.dst if insn.dst < 16 else 0
    match cls:
        case InsnClass.LD:
            if code == LD_IMM64_OPCODE:
                return 0, dst
            return _ALL, 0
        case InsnClass.LDX:
            if mode in (Mode.MEM, Mode.MEMSX):
                return src, dst
            return _ALL, 0
        case InsnClass.ST:
            return (dst, 0) if mode == Mode.MEM else (_ALL, 0)
        case InsnClass.STX:
            if mode == Mode.MEM:
                return dst | src, 0
            if mode == Mode.ATOMIC:
                if insn.imm == 0xF1:
                    return 1 | dst | src, 1
                if insn.imm == 0x100:       # load-acquire: dst = *(src + off)
                    return src, dst
                return dst | src, (src if insn.imm & 1 else 0)
            return _ALL, 0
        case InsnClass.ALU | InsnClass.ALU64:
            if op == 0xD0:
                return dst, dst
            if op == 0xB0:
                return (0 if not code & SOURCE_MASK else src), dst
            return (dst if not code & SOURCE_MASK else dst | src), dst
        case _:
            match op:
                case JmpOp.JA:
                    return (dst if code & SOURCE_MASK else 0), 0
                case JmpOp.JCOND:
                    return 0, 0
                case JmpOp.EXIT:
                    return 1, 0
                case JmpOp.CALL:
                    return ((1 << (_call_params(env, insn) + 1)) - 2), _CALLER_SAVED
                case _:
                    return (dst if not code & SOURCE_MASK else dst | src), 0


def _use_def_sel(code: int) -> tuple[int, int] | None:
    """Which registers ``code`` reads and writes, as indexes into ``(none, dst, src, dst|src,
    all, r0)`` -- read off :func:`_use_def` -- or None where they depend on more than the
    opcode (atomics: on imm; calls: on the function called)."""
    cls = code & CLASS_MASK
    if cls == InsnClass.STX and code & MODE_MASK == Mode.ATOMIC:
        return None
    if cls in (InsnClass.JMP, InsnClass.JMP32) and code & OP_MASK == JmpOp.CALL:
        return None
    d, s = 1 << 1, 1 << 2
    masks = (0, d, s, d | s, _ALL, 1)
    use, written = _use_def(None, Instruction(code, 1, 2))  # type: ignore[arg-type]
    return masks.index(use), masks.index(written)


_USE_DEF_SEL = _ByOpcode(_use_def_sel)


#: ``opcode << 8 | dst << 4 | src`` -> (registers read, registers written, how check_cfg visits it):
#: filled as instructions are met; None for what depends on more (atomics on imm, calls on the
#: function called: :func:`_use_def` answers for each)
_USE_DEF_MEMO: dict[int, tuple[int | None, int, int]] = {}


def _use_def_kind(env: Env, insn: Instruction) -> tuple[int, int, int]:
    """(registers read, registers written, visit kind) of ``insn``, from the memo when its opcode
    and registers decide them."""
    dst = insn.dst
    src = insn.src
    code = insn.opcode
    if not 0 <= dst | src < 16:
        return (*_use_def(env, insn), _VISIT_KIND[code])
    key = code << 8 | dst << 4 | src
    known = _USE_DEF_MEMO.get(key)
    if known is None:
        sel = _USE_DEF_SEL[code]
        if sel is None:
            known = (None, 0, _VISIT_KIND[code])
        else:
            dm = 1 << dst
            sm = 1 << src
            masks = (0, dm, sm, dm | sm, _ALL, 1)
            known = (masks[sel[0]], masks[sel[1]], _VISIT_KIND[code])
        _USE_DEF_MEMO[key] = known
    if known[0] is None:
        return (*_use_def(env, insn), known[2])
    return known  # type: ignore[return-value]


def _compute_live_registers(env: Env) -> None:
    """Backward fixpoint of ``live_in = use | (live_out & ~def)`` over the whole program.

    The first pass goes from the last instruction back: when every edge leads forward, each
    successor is final when it is read, and that pass is the fixpoint (the least one, which the
    kernel's iteration in postorder reaches too); a backward edge takes more passes."""
    insns = env.insns
    n = len(insns)
    memo = _USE_DEF_MEMO
    live_in = [0] * (n + 2)    # two zeros past the end: what falls off the program reads nothing
    backward = False
    plain = _V_PLAIN
    call = _V_CALL
    ld64 = _V_LD64
    ja = _V_JA
    exit_ = _V_EXIT
    jmp32 = _JMP_CLASSES[1]
    calls: dict[int, tuple[int, int, int]] = {}   # (src << 32 | imm) of a call -> its use, def, kind
    for pc in range(n - 1, -1, -1):
        insn = insns[pc]
        if insn is None:
            continue
        dst = insn.dst
        src = insn.src
        if (dst | src) >> 4:    # a register number outside the 4-bit field: no memo key
            known = _use_def_kind(env, insn)
        else:
            known = memo.get(insn.opcode << 8 | dst << 4 | src)
            if known is None:
                known = _use_def_kind(env, insn)
            elif known[0] is None:   # an atomic or a call: their imm decides
                if known[2] == call and insn.off == 0:
                    key = src << 32 | insn.imm & 0xFFFFFFFF
                    known = calls.get(key)
                    if known is None:
                        # _use_def of a call: r1.. as many as it takes are read, r0-r5 written
                        known = calls[key] = ((1 << (_call_params(env, insn) + 1)) - 2, _CALLER_SAVED, call)
                else:
                    known = _use_def_kind(env, insn)
        use, df, kind = known
        if kind == plain or kind == call:
            out = live_in[pc + 1]
        elif kind == ld64:
            out = live_in[pc + 2]
        elif kind == exit_:
            out = 0
        else:
            w = pc + 1 + (insn.imm if kind == ja and insn.opcode & CLASS_MASK == jmp32 else insn.off)
            if w <= pc:
                backward = True
            out = live_in[w] if 0 <= w < n else 0
            if kind != ja:
                out |= live_in[pc + 1]
        live_in[pc] = use | (out & ~df)  # type: ignore[operator]
    del live_in[n:]
    if backward:
        _live_fixpoint(env, live_in)
    for a, live in zip(env.aux, live_in):
        a.live_before = live     # (0, as it was, on the second slot of an ld_imm64)
    if env.log.level >= 2:
        from bpfbuild.verifier.disasm import insn_text

        scc = {pc: a.scc for pc, a in enumerate(env.aux) if a.scc}
        env.verbose("Live regs before insn:\n")
        for pc in range(n):
            if insns[pc] is None:
                continue
            live = live_in[pc]
            mask = "".join(str(r) if live & (1 << r) else "." for r in range(10))
            prefix = f"{scc[pc]:3d} " if scc.get(pc) else "    "
            env.verbose(f"{prefix}{pc:3d}: {mask} {insn_text(insns[pc], pc, env.maps, env.kfunc_log_name)}\n")  # type: ignore[arg-type]


def _live_fixpoint(env: Env, live_in: list[int]) -> None:
    """More backward passes of :func:`_compute_live_registers` until nothing changes (a program
    with a backward edge); ``live_in`` holds the first pass's answer, below the fixpoint."""
    insns = env.insns
    n = len(insns)
    jmp32 = _JMP_CLASSES[1]
    uses = [0] * n
    defs = [0] * n
    succ: list[tuple[int, ...]] = [()] * n
    for pc, insn in enumerate(insns):
        if insn is None:
            continue
        uses[pc], defs[pc], kind = _use_def_kind(env, insn)  # type: ignore[assignment]
        if kind == _V_PLAIN or kind == _V_CALL:
            ws: tuple[int, ...] = (pc + 1,)
        elif kind == _V_LD64:
            ws = (pc + 2,)
        elif kind == _V_EXIT:
            continue
        else:
            w = pc + 1 + (insn.imm if kind == _V_JA and insn.opcode & CLASS_MASK == jmp32 else insn.off)
            ws = (w,) if kind == _V_JA else (pc + 1, w)
        succ[pc] = tuple(s for s in ws if 0 <= s < n)
    changed = True
    while changed:
        changed = False
        for pc in range(n - 1, -1, -1):
            if insns[pc] is None:
                continue
            out = 0
            for s in succ[pc]:
                out |= live_in[s]
            new = uses[pc] | (out & ~defs[pc])
            if new != live_in[pc]:
                live_in[pc] = new
                changed = True


def compute_scc(env: Env) -> dict[int, int]:
    """``compute_scc``: the loops of the program -- instruction -> number of its strongly connected
    component (Tarjan's algorithm, numbered from 1 in the kernel's order; single instructions
    without a self-loop have none)."""
    from bpfbuild.verifier.liveness import insn_successors

    n = len(env.insns)
    pre = [0] * n
    low = [0] * n
    not_on_stack = 1 << 62
    stack: list[int] = []
    out: dict[int, int] = {}
    next_pre = 1
    next_scc = 1
    succs: list[list[int] | None] = [None] * n   # each instruction's, once: it is asked again per child
    for i in range(n):
        if pre[i] or env.insns[i] is None:
            continue
        dfs = [i]
        while dfs:
            w = dfs[-1]
            if pre[w] == 0:
                low[w] = pre[w] = next_pre
                next_pre += 1
                stack.append(w)
            succ = succs[w]
            if succ is None:
                succ = succs[w] = [s for s in insn_successors(env, w) if 0 <= s < n]
            descended = False
            for s in succ:
                if pre[s]:
                    low[w] = min(low[w], low[s])
                else:
                    dfs.append(s)
                    descended = True
                    break
            if descended:
                continue
            if low[w] < pre[w]:
                dfs.pop()
                continue
            # two or more instructions, a self-loop, or a call that runs a callback (an implicit loop)
            assign = stack[-1] != w or w in succ or env.aux[w].calls_callback
            while True:
                t = stack.pop()
                low[t] = not_on_stack
                if assign:
                    out[t] = next_scc
                if t == w:
                    break
            if assign:
                next_scc += 1
            dfs.pop()
    return out
