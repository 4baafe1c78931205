"""Precision tracking: which scalars' exact values mattered (``__mark_chain_precision``).

A privileged verifier compares checkpointed scalars only if they are *precise*: their value
decided something (a pointer offset, a memory size, a branch that was not taken, a return
value).  Scalars start imprecise; when a precise value is needed, the verifier walks the current
path backwards through its instruction history (:func:`backtrack_insn`) to the instructions
that produced it, and marks the matching registers and stack slots precise in every checkpoint
on the way.  When a path is pruned against a checkpoint, the checkpoint's precise marks are
propagated into the current path (:func:`propagate_precision`).

History entries are recorded per state (``VerifierState.hist``): ``(idx, prev_idx, stack,
linked)`` where ``stack`` is ``(frameno, spi)`` for a register spill or fill and ``linked`` the
registers a conditional jump keeps in sync.
"""

from __future__ import annotations

import operator

from bpfbuild.abi.protos import is_sync_callback_helper
from bpfbuild.isa.fields import CLASS_MASK, MODE_MASK, OP_MASK, SOURCE_MASK, InsnClass, JmpOp, Mode, PseudoCall
from bpfbuild.verifier.disasm import insn_text
from bpfbuild.verifier.env import Env
from bpfbuild.verifier.log import frame_str
from bpfbuild.verifier.state import RegType, SlotType, VerifierState

__all__ = [
    "Backtrack",
    "mark_all_scalars_imprecise",
    "mark_chain_precision",
    "propagate_precision",
    "push_history",
]

_ARGS = 0x3E          # r1-r5
_NOTSUPP = -1


class Backtrack:
    """``struct backtrack_state``: registers and stack slots (per frame) still to be explained."""

    __slots__ = ("frame", "regs", "stack")

    def __init__(self, frame: int) -> None:
        self.frame = frame
        self.regs = [0] * 8
        self.stack = [0] * 8

    def empty(self) -> bool:
        if not self.frame:
            return not self.regs[0] and not self.stack[0]
        return not any(self.regs[: self.frame + 1]) and not any(self.stack[: self.frame + 1])

    def is_reg(self, r: int) -> bool:
        return bool(self.regs[self.frame] & (1 << r))

    def set_reg(self, r: int, frame: int | None = None) -> None:
        self.regs[self.frame if frame is None else frame] |= 1 << r

    def clear_reg(self, r: int, frame: int | None = None) -> None:
        self.regs[self.frame if frame is None else frame] &= ~(1 << r)

    def set_slot(self, frame: int, spi: int) -> None:
        self.stack[frame] |= 1 << spi

    def clear_slot(self, frame: int, spi: int) -> None:
        self.stack[frame] &= ~(1 << spi)

    def is_slot(self, frame: int, spi: int) -> bool:
        return bool(self.stack[frame] & (1 << spi))


#: history flags of a conditional jump comparing the stack pointer (not tracked for precision)
INSN_F_SRC_REG_STACK = 1
INSN_F_DST_REG_STACK = 2


def push_history(env: Env, st: VerifierState, stack: tuple[int, int] | None = None,
                 linked: tuple[tuple[int, int, bool], ...] | None = None, flags: int = 0) -> None:
    """``push_insn_history``: record the current instruction (merged with an entry this very
    instruction already pushed)."""
    idx = env.insn_idx
    if st.hist and env.hist_step == env.insn_processed and st.hist[-1][0] == idx:
        old = st.hist[-1]
        st.hist[-1] = (idx, old[1], stack if stack is not None else old[2], linked if linked is not None else old[3],
                       old[4] | flags)
        return
    st.hist.append((idx, env.prev_insn_idx, stack, linked, flags))
    env.hist_step = env.insn_processed


#: a register's precise flag, a stack slot's register's (asked of every register at once with
#: ``any(map(...))``: most states have no precise register at all)
_PRECISE = operator.attrgetter("precise")
_SLOT_PRECISE = operator.attrgetter("spilled_ptr.precise")


def mark_all_scalars_imprecise(st: VerifierState) -> None:
    for frame in st.frames:
        regs = frame.regs
        if any(map(_PRECISE, regs)):
            for reg in regs:
                if reg.precise and reg.type == _SCALAR:
                    reg.precise = False
        if not any(map(_SLOT_PRECISE, frame.stack)):
            continue
        for spi, slot in enumerate(frame.stack):
            reg = slot.spilled_ptr
            if reg.precise and slot.slot_type[7] == _SPILL and reg.type == _SCALAR:
                frame.wslot(spi).spilled_ptr.precise = False


def mark_all_scalars_precise(env: Env, st: VerifierState) -> None:
    """The big hammer: every scalar of every parent state of ``st`` is precise (``st`` itself
    needs no marks)."""
    if env.log.level >= 2:
        env.verbose(f"mark_precise: frame{st.curframe}: falling back to forcing all scalars precise\n")
    log2 = env.log.level >= 2
    cur = st.parent
    while cur is not None:
        for i, frame in enumerate(cur.frames):
            for j, reg in enumerate(frame.regs[:10]):
                if reg.type == RegType.SCALAR_VALUE and not reg.precise:
                    reg.precise = True
                    if log2:
                        env.verbose(f"force_precise: frame{i}: forcing r{j} to be precise\n")
            for j, slot in enumerate(frame.stack):
                if slot.is_spilled and slot.spilled_ptr.type == RegType.SCALAR_VALUE and not slot.spilled_ptr.precise:
                    frame.wslot(j).spilled_ptr.precise = True
                    if log2:
                        env.verbose(f"force_precise: frame{i}: forcing fp{-(j + 1) * 8} to be precise\n")
        cur = cur.parent


def _fmt_regs(mask: int) -> str:
    return ",".join(f"r{r}" for r in range(32) if mask >> r & 1)


def _fmt_stack(mask: int) -> str:
    return ",".join(str(-(spi + 1) * 8) for spi in range(64) if mask >> spi & 1)


def _sync_linked(bt: Backtrack, hist: tuple | None) -> None:  # type: ignore[type-arg]
    if hist is None or not hist[3]:
        return
    linked = hist[3]
    hit = False
    for fr, n, is_reg in linked:
        if (is_reg and bt.regs[fr] & (1 << n)) or (not is_reg and bt.stack[fr] & (1 << n)):
            hit = True
            break
    if not hit:
        return
    for fr, n, is_reg in linked:
        if is_reg:
            bt.regs[fr] |= 1 << n
        else:
            bt.stack[fr] |= 1 << n


# plain ints for the hot paths below (an IntEnum member lookup costs several times an int's)
_ALU, _ALU64, _LD, _LDX = int(InsnClass.ALU), int(InsnClass.ALU64), int(InsnClass.LD), int(InsnClass.LDX)
_ST, _STX, _JMP, _JMP32 = int(InsnClass.ST), int(InsnClass.STX), int(InsnClass.JMP), int(InsnClass.JMP32)
_CALL, _EXIT, _JA, _JCOND = int(JmpOp.CALL), int(JmpOp.EXIT), int(JmpOp.JA), int(JmpOp.JCOND)
_PSEUDO_CALL, _PSEUDO_HELPER, _PSEUDO_KFUNC = int(PseudoCall.CALL), int(PseudoCall.HELPER), int(PseudoCall.KFUNC)
_IND, _ABS, _ATOMIC, _LOAD_ACQ = int(Mode.IND), int(Mode.ABS), int(Mode.ATOMIC), 0x100
_SCALAR = int(RegType.SCALAR_VALUE)
_SPILL = int(SlotType.STACK_SPILL)
_JMP_SPECIAL = (_CALL, _EXIT, _JA, _JCOND)


def backtrack_insn(env: Env, idx: int, subseq_idx: int, hist: tuple | None, bt: Backtrack) -> int:  # type: ignore[type-arg]
    """Move ``bt`` from after instruction ``idx`` to before it; ``_NOTSUPP`` when impossible."""
    insn = env.insns[idx]
    if insn is None:
        return 0
    code = insn.opcode
    cls = code & CLASS_MASK
    op = code & OP_MASK
    dreg, sreg = insn.dst, insn.src
    if hist is not None and hist[3]:
        _sync_linked(bt, hist)
    regs = bt.regs
    frame = bt.frame
    if cls == _ALU or cls == _ALU64:
        if not regs[frame] >> dreg & 1:
            return 0
        if op == 0xD0 or op == 0x80:    # END, NEG
            return 0
        if op == 0xB0:                  # MOV
            regs[frame] &= ~(1 << dreg)
            if code & SOURCE_MASK and sreg != 10:
                regs[frame] |= 1 << sreg
        elif code & SOURCE_MASK and sreg != 10:
            regs[frame] |= 1 << sreg
    elif cls == _LDX or (cls == _STX and insn.imm == _LOAD_ACQ and code & MODE_MASK == _ATOMIC):
        if not regs[frame] >> dreg & 1:
            return 0
        regs[frame] &= ~(1 << dreg)
        if hist is None or hist[2] is None:
            return 0
        fr, spi = hist[2]
        bt.set_slot(fr, spi)
    elif cls == _STX or cls == _ST:
        if regs[frame] >> dreg & 1:
            return _NOTSUPP
        if hist is None or hist[2] is None:
            return 0
        fr, spi = hist[2]
        if not bt.is_slot(fr, spi):
            return 0
        bt.clear_slot(fr, spi)
        if cls == _STX:
            bt.set_reg(sreg)
    elif cls == _JMP or cls == _JMP32:
        if op == _CALL and insn.src == _PSEUDO_CALL:
            sub = env.find_subprog(idx + insn.imm + 1)
            if sub < 0:
                return _NOTSUPP
            if env.subprogs[sub].is_global:
                if bt.regs[bt.frame] & _ARGS:
                    return _NOTSUPP
                bt.clear_reg(0)
                return 0
            if bt.regs[bt.frame] & ~_ARGS or bt.stack[bt.frame]:
                return _NOTSUPP
            if bt.frame == 0:
                return _NOTSUPP
            for r in range(1, 6):
                if bt.is_reg(r):
                    bt.clear_reg(r)
                    bt.set_reg(r, bt.frame - 1)
            bt.frame -= 1
            return 0
        if (op == _CALL and insn.src == _PSEUDO_HELPER and is_sync_callback_helper(insn.imm)
                and idx != subseq_idx - 1):
            if bt.regs[bt.frame] & ~_ARGS or bt.stack[bt.frame]:
                return _NOTSUPP
            for r in range(1, 6):
                bt.clear_reg(r)
            if bt.frame == 0:
                return _NOTSUPP
            bt.frame -= 1
            return 0
        if op == _CALL:
            if insn.src == _PSEUDO_KFUNC and insn.imm == 0:
                return _NOTSUPP
            bt.clear_reg(0)
            if bt.regs[bt.frame] & _ARGS:
                return _NOTSUPP
        elif op == _EXIT:
            if subseq_idx >= 0 and env.aux[subseq_idx].calls_callback:
                for r in range(1, 6):
                    bt.clear_reg(r)
            if bt.regs[bt.frame] & _ARGS:
                return _NOTSUPP
            prev = env.insns[subseq_idx - 1] if subseq_idx - 1 >= 0 else None
            r0_precise = prev is not None and prev.is_subprog_call and bt.is_reg(0)
            bt.clear_reg(0)
            if bt.frame >= 7:
                return _NOTSUPP
            bt.frame += 1
            if r0_precise:
                bt.set_reg(0)
            return 0
        elif op == _JA or op == _JCOND:
            pass
        elif code & SOURCE_MASK:
            if not regs[frame] >> dreg & 1 and not regs[frame] >> sreg & 1:
                return 0
            flags = hist[4] if hist is not None else 0
            if not flags & INSN_F_SRC_REG_STACK:
                regs[frame] |= 1 << sreg
            if not flags & INSN_F_DST_REG_STACK:
                regs[frame] |= 1 << dreg
    elif cls == _LD:
        if not regs[frame] >> dreg & 1:
            return 0
        regs[frame] &= ~(1 << dreg)
        mode = code & MODE_MASK
        if mode == _IND or mode == _ABS:
            return _NOTSUPP
    if hist is not None and hist[3]:
        _sync_linked(bt, hist)
    return 0


#: outcomes of walking one state's history (:func:`_walk_segment`)
_EXPLAINED = 0      # bt became empty: every precise value is explained
_FALLBACK = 1       # backtracking is not supported here: mark everything precise
_REACHED_START = 2  # walked back to the state's first instruction: continue in its parent


def _walk_segment(env: Env, cur_st: VerifierState, last_idx: int, subseq_idx: int, skip_first: bool,
                  bt: Backtrack, log2: bool) -> int:
    """Backtrack ``bt`` through the instructions ``cur_st`` processed, from ``last_idx`` back to
    its first instruction (the inner loop of ``__mark_chain_precision``).

    Below log level 2 the walk is remembered (``cur_st.bt_memo``) at each history entry it
    passes: where it stood (instruction, history position, ``subseq_idx``) and what ``bt``
    held there decide the rest of the walk, as it reads only the history before that position,
    the instructions and their static aux data.  History entries never change once a newer
    one follows them or their instruction is over (:func:`push_history` merges only into an
    entry pushed by the same instruction; a new checkpoint gives the state a new history and an
    empty memo), so a remembered outcome and ``bt`` are
    exactly what walking again would give.  A bounded loop backtracks its counter through
    every iteration since the last checkpoint at each iteration, as the kernel does (its log
    at level 2 prints each step); here the part walked before costs one lookup.
    """
    hist = cur_st.hist
    hist_end = len(hist)
    n = env.insn_cnt
    insns = env.insns
    first = cur_st.first_insn_idx
    memo: dict | None = None   # type: ignore[type-arg]
    # the entries a remembered walk may read: all of a checkpoint's; the current state's newest
    # one only when it was not pushed during this instruction (a push merges into an entry of
    # the same instruction only: the next instruction appends a new one)
    stable = hist_end - 1 if skip_first and env.hist_step == env.insn_processed else hist_end
    seen: list[tuple[int, ...]] = []
    at_entry = not skip_first
    if not log2:
        memo = cur_st.bt_memo
        if memo is None:
            memo = cur_st.bt_memo = {}
    i = last_idx
    outcome = _REACHED_START
    regs = bt.regs       # bt's lists are updated in place (backtrack_insn, a memo's answer)
    stack = bt.stack
    while True:
        # the history entry of instruction i, if it has one (where the walk goes next)
        h = hist[hist_end - 1] if hist_end and hist[hist_end - 1][0] == i else None
        if at_entry and memo is not None and hist_end <= stable:
            key = (i, hist_end, subseq_idx, bt.frame, *regs, *stack)
            got = memo.get(key)
            if got is not None:
                outcome, bt.frame, got_regs, got_stack = got
                regs[:] = got_regs
                stack[:] = got_stack
                break
            seen.append(key)
        at_entry = False
        if skip_first:
            skip_first = False
        else:
            insn = insns[i]
            if log2:
                env.verbose(f"mark_precise: frame{bt.frame}: regs={_fmt_regs(regs[bt.frame])} "
                            f"stack={_fmt_stack(stack[bt.frame])} before "
                            f"{i}: {insn_text(insn, i, env.maps, env.kfunc_log_name) if insn is not None else ''}\n")
            # backtrack_insn's first exit without the call: an ALU op or a plain load whose
            # destination is not being explained, or a conditional jump against an immediate,
            # leave bt as it is (when the history links no registers)
            code = insn.opcode if insn is not None else 0
            cls = code & CLASS_MASK
            if not ((h is None or not h[3]) and (
                    ((cls == _ALU64 or cls == _ALU or cls == _LDX) and not regs[bt.frame] >> insn.dst & 1)
                    or ((cls == _JMP or cls == _JMP32) and not code & SOURCE_MASK
                        and (code & OP_MASK) not in _JMP_SPECIAL))):
                if backtrack_insn(env, i, subseq_idx, h, bt) == _NOTSUPP:
                    outcome = _FALLBACK
                    break
        if (not regs[0] and not stack[0]) if not bt.frame else bt.empty():   # bt.empty(), inlined
            outcome = _EXPLAINED
            break
        subseq_idx = i
        if i == first and (hist_end == 0 or (hist_end == 1 and hist[0][0] == i)):
            break
        if h is not None:
            i = h[1]
            hist_end -= 1
            at_entry = True
        else:
            i -= 1
            if 0 <= i < n and insns[i] is None:   # the second slot of an ld_imm64
                i -= 1
        if i < 0 or i >= n:
            outcome = _FALLBACK
            break
    if seen:
        assert memo is not None
        result = (outcome, bt.frame, tuple(bt.regs), tuple(bt.stack))
        for key in seen:
            memo[key] = result
    return outcome


def mark_chain_precision(env: Env, st: VerifierState, regno: int = -1, bt: Backtrack | None = None,
                         last_idx: int | None = None) -> bool:
    """Make the current value of ``regno`` (or everything in ``bt``) precise along the path.

    ``last_idx`` is the instruction ``st`` stands at (default: the current one).  Returns
    whether a parent state got a new precision mark.
    """
    if not env.bpf_capable:
        return False
    if bt is None:
        bt = Backtrack(len(st.frames) - 1)
        reg = st.frames[-1].regs[regno]
        if reg.type != _SCALAR:   # e.g. a pointer as bpf_loop()'s count
            raise env.error("verifier bug: backtracking misuse")
        bt.set_reg(regno)
    if bt.empty():
        return False
    changed = False
    cur_st = st
    first_idx = st.first_insn_idx
    last_idx = env.insn_idx if last_idx is None else last_idx
    subseq_idx = -1
    log2 = env.log.level >= 2
    while True:
        if log2:
            env.verbose(f"mark_precise: frame{bt.frame}: last_idx {last_idx} first_idx {first_idx} "
                        f"subseq_idx {subseq_idx} \n")
        if last_idx < 0:
            f0 = cur_st.frames[0]
            if cur_st.curframe == 0 and f0.subprogno > 0 and not bt.stack[0] and not bt.regs[0] & ~_ARGS:
                for r in range(1, 6):
                    if bt.regs[0] & (1 << r):
                        bt.clear_reg(r, 0)
                        if f0.regs[r].type == _SCALAR:
                            f0.regs[r].precise = True
                            changed = True
                return changed
            mark_all_scalars_precise(env, st)
            return changed
        outcome = _walk_segment(env, cur_st, last_idx, subseq_idx, cur_st is st, bt, log2)
        if outcome == _EXPLAINED:
            return changed
        if outcome == _FALLBACK:
            mark_all_scalars_precise(env, st)
            return changed
        parent = cur_st.parent
        if parent is None:
            break
        for fr in range(bt.frame, -1, -1):
            if fr >= len(parent.frames):
                mark_all_scalars_precise(env, st)
                return changed
            func = parent.frames[fr]
            mask = bt.regs[fr]
            r = 0
            while mask >> r:
                if mask & (1 << r):
                    reg = func.regs[r]
                    if reg.type != _SCALAR or reg.precise:
                        bt.clear_reg(r, fr)
                    else:
                        reg.precise = True
                        changed = True
                r += 1
            smask = bt.stack[fr]
            spi = 0
            while smask >> spi:
                if smask & (1 << spi):
                    if spi >= len(func.stack):
                        mark_all_scalars_precise(env, st)
                        return changed
                    slot = func.stack[spi]
                    if not slot.is_spilled_scalar or slot.spilled_ptr.precise:
                        bt.clear_slot(fr, spi)
                    else:
                        func.wslot(spi).spilled_ptr.precise = True
                        changed = True
                spi += 1
            if log2:
                env.verbose(f"mark_precise: frame{fr}: parent state regs={_fmt_regs(bt.regs[fr])} "
                            f"stack={_fmt_stack(bt.stack[fr])}: {frame_str(parent, func)}\n")
        if bt.empty():
            return changed
        subseq_idx = first_idx
        last_idx = parent.last_insn_idx
        first_idx = parent.first_insn_idx
        cur_st = parent
    if not bt.empty():
        mark_all_scalars_precise(env, st)
    return changed


def propagate_precision(env: Env, old: VerifierState, cur: VerifierState) -> bool:
    """After pruning ``cur`` against ``old``: what was precise in ``old`` is precise on this path."""
    bt: Backtrack | None = None
    for fr, frame in enumerate(old.frames):
        regs = frame.regs
        if any(map(_PRECISE, regs)):
            for r in range(10):
                reg = regs[r]
                if reg.precise and reg.type == _SCALAR:
                    if bt is None:
                        bt = Backtrack(len(old.frames) - 1)
                    bt.regs[fr] |= 1 << r
        if not any(map(_SLOT_PRECISE, frame.stack)):
            continue
        for spi, slot in enumerate(frame.stack):
            reg = slot.spilled_ptr
            if reg.precise and slot.slot_type[7] == _SPILL and reg.type == _SCALAR:
                if bt is None:
                    bt = Backtrack(len(old.frames) - 1)
                bt.stack[fr] |= 1 << spi
    if bt is None:   # nothing precise: nothing to log or to mark
        return False
    if env.log.level >= 2:
        for fr in range(old.curframe, -1, -1):
            names = [f"r{r}" for r in range(10) if bt.regs[fr] & (1 << r)]
            names += [f"fp{-(s + 1) * 8}" for s in range(64) if bt.stack[fr] & (1 << s)]
            if names:
                env.verbose(f"frame {fr}: propagating {','.join(names)}\n")
    return mark_chain_precision(env, cur, -1, bt, last_idx=cur.insn_idx)
