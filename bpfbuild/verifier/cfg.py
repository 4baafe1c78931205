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
from collections.abc import Sequence

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.abi.protos import BpfFunc, func_proto, is_async_callback_helper, is_sync_callback_helper
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
from bpfbuild.verifier.kfunc_btf import is_iter_next_call, is_sync_callback_kfunc, kfunc_nargs

__all__ = ["RawSlot", "check_structure"]

RawSlot = tuple[int, int, int, int, int]   # code, dst, src, off, imm

_CALL = InsnClass.JMP | JmpOp.CALL
_EXIT = InsnClass.JMP | JmpOp.EXIT
_JA = InsnClass.JMP | JmpOp.JA
_JA32 = InsnClass.JMP32 | JmpOp.JA
_JCOND = InsnClass.JMP | JmpOp.JCOND


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


def check_structure(env: Env, slots: Sequence[RawSlot]) -> None:
    """Run every structural check; fills ``env.insns``, ``env.subprogs``, ``env.aux``.

    Raises :class:`~bpfbuild.errors.ProgramError` with the kernel's message on the first failure.
    """
    _add_subprogs(env, slots)
    _check_subprogs(env, slots)
    funcinfo.check_func_returns(env)   # check_btf_info: tail calls and LD_ABS need an int return
    _resolve(env, slots)
    env.aux = [Aux() for _ in range(len(slots))]
    loops = _check_cfg(env)
    # without a back-edge the graph has no cycle, so only an instruction that runs a callback
    # (an implicit loop) can be a strongly connected component
    if loops or any(a.calls_callback for a in env.aux):
        for pc, scc in compute_scc(env).items():
            env.aux[pc].scc = scc
    _compute_live_registers(env)
    env.stack_live = StackLiveness(env)


def _add_subprogs(env: Env, slots: Sequence[RawSlot]) -> None:
    n = len(slots)
    starts = {0}
    for i, s in enumerate(slots):
        if s[0] != _CALL and s[0] != LD_IMM64_OPCODE:     # neither a call nor a function's address
            continue
        if not (_is_pseudo_call(s) or _is_pseudo_func(s) or _is_kfunc_call(s)):
            continue
        if not env.bpf_capable:
            raise env.error("loading/calling other bpf or kernel functions are allowed for CAP_BPF "
                            "and CAP_SYS_ADMIN", i)
        if _is_kfunc_call(s):
            if not env.gpl:
                raise env.error("cannot call kernel function from non-GPL compatible program", i)
            continue
        target = i + s[4] + 1
        if target < 0 or target >= n:
            raise env.error("call to invalid destination", i)
        starts.add(target)
    ordered = sorted(starts)
    env.subprogs = [Subprog(start, end) for start, end in zip(ordered, [*ordered[1:], n], strict=True)]
    for sp in env.subprogs:
        sp.name = env.func_names.get(sp.start, "")
        sp.is_global = sp.start in env.global_funcs and sp.start != 0
        sp.args = env.global_args.get(sp.start)
    if env.log.level >= 2:
        for i, sp in enumerate(env.subprogs):
            env.verbose(f"func#{i} @{sp.start}\n")


def _check_subprogs(env: Env, slots: Sequence[RawSlot]) -> None:
    calls: list[tuple[int, int]] = []   # (caller subprog, callee start)
    for n, sp in enumerate(env.subprogs):
        for i in range(sp.start, sp.end):
            code = slots[i][0]
            if code == _CALL and slots[i][2] == PseudoCall.HELPER:
                if slots[i][4] == BpfFunc.tail_call:
                    sp.has_tail_call = True
                    sp.changes_pkt_data = True
                else:
                    proto = func_proto(slots[i][4], env.prog_type)
                    if proto is not None and proto.changes_pkt_data:
                        sp.changes_pkt_data = True
            elif code == _CALL and slots[i][2] == PseudoCall.CALL:
                calls.append((n, i + slots[i][4] + 1))
            cls = code & CLASS_MASK
            if cls == InsnClass.LD and code & MODE_MASK in (Mode.ABS, Mode.IND):
                sp.has_ld_abs = True
            if cls in (InsnClass.JMP, InsnClass.JMP32) and code & OP_MASK not in (JmpOp.CALL, JmpOp.EXIT):
                off = i + _jmp_offset(slots[i]) + 1
                if off < sp.start or off >= sp.end:
                    raise env.error(f"jump out of range from insn {i} to {off}", i)
            if i == sp.end - 1 and code not in (_EXIT, _JA32, _JA):
                raise env.error("last insn is not an exit or jmp", i)
    # a caller's packet pointers die when any function it calls may change packet data
    starts = {sp.start: n for n, sp in enumerate(env.subprogs)}
    changed = True
    while changed:
        changed = False
        for caller, target in calls:
            callee = starts.get(target)
            if callee is not None and env.subprogs[callee].changes_pkt_data \
                    and not env.subprogs[caller].changes_pkt_data:
                env.subprogs[caller].changes_pkt_data = changed = True


def _resolve(env: Env, slots: Sequence[RawSlot]) -> None:
    """``resolve_pseudo_ldimm64`` + the opcode sanity check; builds ``env.insns``."""
    known = _known_opcodes()
    n = len(slots)
    insns: list[Instruction | None] = []
    i = 0
    while i < n:
        code, dst, src, off, imm = slots[i]
        if code & CLASS_MASK == InsnClass.LDX and (code & MODE_MASK not in (Mode.MEM, Mode.MEMSX) or imm != 0):
            raise env.error("BPF_LDX uses reserved fields", i)
        if code == LD_IMM64_OPCODE:
            if i == n - 1 or any(slots[i + 1][:4]):
                raise env.error("invalid bpf_ld_imm64 insn", i)
            hi = slots[i + 1][4]
            if src != PseudoLoad.IMM64 and src != PseudoLoad.FUNC:
                _check_map_load(env, i, src, imm, hi)
            insns.append(Instruction(code, dst, src, off, imm, hi))
            insns.append(None)
            i += 2
            continue
        if code not in known:
            raise env.error(f"unknown opcode {code:02x}", i)
        insns.append(Instruction(code, dst, src, off, imm))
        i += 1
    env.insns = insns


def _check_map_load(env: Env, i: int, src: int, imm: int, hi: int) -> None:
    if src == PseudoLoad.BTF_ID:
        env.not_modelled(f"insn {i}: ld_imm64 of a kernel BTF symbol (ksym)")
        return
    if src not in (PseudoLoad.MAP_FD, PseudoLoad.MAP_IDX, PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE):
        raise env.error("unrecognized bpf_ld_imm64 insn", i)
    if src in (PseudoLoad.MAP_FD, PseudoLoad.MAP_IDX) and hi != 0:
        raise env.error("unrecognized bpf_ld_imm64 insn", i)
    if i in env.raw_map_loads and src in (PseudoLoad.MAP_FD, PseudoLoad.MAP_VALUE):
        # a hand-written fd number: the loader's stdin/stdout/stderr (or nothing) are no maps;
        # what a higher number names depends on the loading process
        if imm >= 3:
            env.not_modelled(f"insn {i}: a map referenced by the raw fd number {imm}")
        raise env.error(f"fd {imm} is not pointing to valid bpf_map", i)
    if not 0 <= imm < len(env.maps):
        raise env.error(f"fd {imm} is not pointing to valid bpf_map", i)
    check_map_prog_compatibility(env, env.maps[imm], i)
    if src in (PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE):
        m = env.maps[imm]
        off = hi & 0xFFFFFFFF
        if off >= 1 << 29:
            raise env.error(f"direct value offset of {off} is not allowed", i)
        if m.map_type != MapType.ARRAY:   # only arrays have map_direct_value_addr here
            raise env.error("no direct value access support for this map type", i)
        if m.max_entries != 1 or off >= m.value_size:
            raise env.error(f"invalid access to map value pointer, value_size={m.value_size} off={off}", i)


# ---- control flow ---------------------------------------------------------------------------------

_DISCOVERED = 0x10
_EXPLORED = 0x20
_FALLTHROUGH = 1
_BRANCH = 2


def _check_cfg(env: Env) -> bool:
    """``check_cfg``; returns whether the depth-first walk met a back-edge (a loop)."""
    insns = env.insns
    n = len(insns)
    aux = env.aux
    state = [0] * n
    stack = [0]
    state[0] = _DISCOVERED
    back_edges = []

    def push(t: int, w: int, e: int) -> int:
        """1 = keep exploring, 0 = done with this edge."""
        if e == _FALLTHROUGH and state[t] >= _DISCOVERED | _FALLTHROUGH:
            return 0
        if e == _BRANCH and state[t] >= _DISCOVERED | _BRANCH:
            return 0
        if w < 0 or w >= n:
            raise env.error(f"jump out of range from insn {t} to {w}", t)
        if e == _BRANCH:
            aux[w].prune_point = True
            aux[w].jmp_point = True
        if state[w] == 0:
            state[t] = _DISCOVERED | e
            state[w] = _DISCOVERED
            stack.append(w)
            return 1
        if state[w] & 0xF0 == _DISCOVERED:
            if env.bpf_capable:
                back_edges.append(t)
                return 0
            raise env.error(f"back-edge from insn {t} to {w}", t)
        state[t] = _DISCOVERED | e
        return 0

    def visit_call(t: int, size: int, visit_callee: bool) -> int:
        r = push(t, t + size, _FALLTHROUGH)
        if r:
            return r
        if t + size < n:
            aux[t + size].prune_point = True
            aux[t + size].jmp_point = True
        if visit_callee:
            aux[t].prune_point = True
            insn = insns[t]
            assert insn is not None
            return push(t, t + insn.imm + 1, _BRANCH)
        return 0

    def visit(t: int) -> int:
        insn = insns[t]
        if insn is None:  # a jump into the second slot of an ld_imm64: its opcode 0 falls through
            return push(t, t + 1, _FALLTHROUGH)
        code = insn.opcode
        if code == LD_IMM64_OPCODE and insn.src == PseudoLoad.FUNC:
            return visit_call(t, 2, True)
        cls = code & CLASS_MASK
        if cls not in (InsnClass.JMP, InsnClass.JMP32):
            return push(t, t + insn.slots, _FALLTHROUGH)
        op = code & OP_MASK
        if op == JmpOp.EXIT:
            return 0
        if op == JmpOp.CALL:
            if insn.src == PseudoCall.HELPER and is_async_callback_helper(insn.imm):
                aux[t].prune_point = True
            if insn.src == PseudoCall.KFUNC and is_iter_next_call(env, insn):
                # checkpoints at iter_next() make open-coded iterator loops converge
                aux[t].prune_point = True
                aux[t].force_checkpoint = True
                aux[t].iter_next = True
            if ((insn.src == PseudoCall.HELPER and is_sync_callback_helper(insn.imm))
                    or (insn.src == PseudoCall.KFUNC and is_sync_callback_kfunc(env, insn))):
                aux[t].calls_callback = True
                aux[t].force_checkpoint = True
                aux[t].prune_point = True
                aux[t].jmp_point = True
            return visit_call(t, 1, insn.src == PseudoCall.CALL)
        if op == JmpOp.JA:
            off = insn.imm if cls == InsnClass.JMP32 else insn.off
            r = push(t, t + off + 1, _FALLTHROUGH)
            if r:
                return r
            aux[t + off + 1].prune_point = True
            aux[t + off + 1].jmp_point = True
            return 0
        aux[t].prune_point = True
        if code == _JCOND:
            aux[t].force_checkpoint = True
        r = push(t, t + 1, _FALLTHROUGH)
        if r:
            return r
        return push(t, t + insn.off + 1, _BRANCH)

    while stack:
        t = stack[-1]
        r = visit(t)
        if r == 0:
            state[t] = _EXPLORED
            stack.pop()
    i = 0
    while i < n:
        insn = insns[i]
        if state[i] != _EXPLORED:
            raise env.error(f"unreachable insn {i}", i)
        if insn is not None and insn.opcode == LD_IMM64_OPCODE:
            if state[i + 1] != 0:
                raise env.error(f"jump into the middle of ldimm64 insn {i}", i)
            i += 2
            continue
        i += 1
    return bool(back_edges)


# ---- liveness ---------------------------------------------------------------------------------

_ALL = 0xFFFF
_CALLER_SAVED = 0x3F


def _call_params(env: Env, insn: Instruction) -> int:
    """``get_call_summary``: how many argument registers a helper call reads (5 when unknown)."""
    from bpfbuild.abi.protos import ArgType, func_proto, helper_allowed

    if insn.src == PseudoCall.KFUNC:
        nargs = kfunc_nargs(env, insn)
        return 5 if nargs is None else nargs
    if insn.src != PseudoCall.HELPER or not 0 < insn.imm <= 211:
        return 5
    if helper_allowed(insn.imm, env.prog_type, sleepable=True, target=env.kernel) is False:
        return 5
    proto = func_proto(insn.imm, env.prog_type)
    if proto is None:
        return unmodelled_helper_nargs(env.prog_type, insn.imm)
    n = 0
    for arg in proto.args:
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


def _successors(env: Env, pc: int, insn: Instruction) -> tuple[int, ...]:
    code = insn.opcode
    cls = code & CLASS_MASK
    if cls in (InsnClass.JMP, InsnClass.JMP32):
        op = code & OP_MASK
        if op == JmpOp.EXIT:
            return ()
        if op == JmpOp.CALL:
            return (pc + 1,)
        if op == JmpOp.JA:
            return (pc + 1 + (insn.imm if cls == InsnClass.JMP32 else insn.off),)
        return (pc + 1, pc + 1 + insn.off)
    return (pc + insn.slots,)


def _compute_live_registers(env: Env) -> None:
    """Backward fixpoint of ``live_in = use | (live_out & ~def)`` over the whole program."""
    insns = env.insns
    n = len(insns)
    pcs = [pc for pc in range(n) if insns[pc] is not None]
    ud = {pc: _use_def(env, insns[pc]) for pc in pcs}  # type: ignore[arg-type]
    succ = {pc: [s for s in _successors(env, pc, insns[pc]) if 0 <= s < n] for pc in pcs}  # type: ignore[arg-type]
    # when every edge leads forward, one pass from the last instruction back sees each
    # successor final already: that pass reaches the fixpoint, a second one would change nothing
    forward = all(s > pc for pc in pcs for s in succ[pc])
    live_in = [0] * n
    changed = True
    while changed:
        changed = False
        for pc in reversed(pcs):
            out = 0
            for s in succ[pc]:
                out |= live_in[s]
            use, d = ud[pc]
            new = use | (out & ~d)
            if new != live_in[pc]:
                live_in[pc] = new
                changed = not forward
    for pc in pcs:
        env.aux[pc].live_before = live_in[pc]
    if env.log.level >= 2:
        from bpfbuild.verifier.disasm import insn_text

        scc = {pc: a.scc for pc, a in enumerate(env.aux) if a.scc}
        env.verbose("Live regs before insn:\n")
        for pc in pcs:
            live = live_in[pc]
            mask = "".join(str(r) if live & (1 << r) else "." for r in range(10))
            prefix = f"{scc[pc]:3d} " if scc.get(pc) else "    "
            env.verbose(f"{prefix}{pc:3d}: {mask} {insn_text(insns[pc], pc, env.maps, env.kfunc_log_name)}\n")  # type: ignore[arg-type]


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
            succ = [s for s in insn_successors(env, w) if 0 <= s < n]
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
