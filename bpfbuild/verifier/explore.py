"""Path exploration: the kernel's ``do_check`` loop, branches, pruning and the checkpoint table.

Every path through the program is simulated instruction by instruction on its own state.  A
conditional jump whose outcome is unknown forks: the jump's state is pushed
(``push_stack``) and explored after the fall-through path ends (``pop_stack``).  At prune
points (jump targets, after calls, conditional jumps) the current state is compared with
states already proven safe at the same instruction (``is_state_visited``/``states_equal``): if
one of them is at least as general, the path is cut.  Loops terminate the same way, or run
into the 1,000,000 processed-instructions limit.

The comparison itself lives in :mod:`.equiv`.  As in the kernel, scalars are imprecise until a
check needs their value (:mod:`.precision` backtracks and marks them), and an imprecise scalar
of an old state matches any scalar, so the processed-instruction counts equal the kernel's.
"""

from __future__ import annotations

import functools
import gc

from bpfbuild.abi.protos import BpfFunc
from bpfbuild.isa.fields import (
    CLASS_MASK,
    MODE_MASK,
    OP_MASK,
    SOURCE_MASK,
    AluOp,
    InsnClass,
    JmpOp,
    Mode,
    PseudoCall,
    PseudoLoad,
)
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.verifier import calls, fastcall, fields, globalargs, graph, insns, kfuncs, precision, transfer
from bpfbuild.verifier.disasm import insn_text
from bpfbuild.verifier.env import (
    BPF_COMPLEXITY_LIMIT_JMP_SEQ,
    MAX_BPF_STACK,
    MAX_CALL_FRAMES,
    Env,
    SccVisit,
    StateEntry,
)
from bpfbuild.verifier.equiv import (
    EXACT,
    NOT_EXACT,
    RANGE_WITHIN,
    first_unsafe_reg,
    frame_insn_idx,
    reg_unsafe,
    same_value_fields,
    states_equal,
    widen_imprecise_scalars,
)
from bpfbuild.verifier.fastenum import members
from bpfbuild.verifier.liveness import NEVER_WRITES
from bpfbuild.verifier.log import frame_str
from bpfbuild.verifier.state import FuncState, RegType, SlotType, VerifierState

# plain-class views of the enums read per instruction (see .fastenum)
AluOp, InsnClass, JmpOp, Mode, PseudoCall, RegType = (
    members(AluOp),
    members(InsnClass),
    members(JmpOp),
    members(Mode),
    members(PseudoCall),
    members(RegType),
)

__all__ = ["check_max_stack_depth", "do_check", "states_equal"]

BPF_COMPLEXITY_LIMIT_STATES = 64
_JMP = int(InsnClass.JMP)
_SCALAR, _PTR_TO_STACK = int(RegType.SCALAR_VALUE), int(RegType.PTR_TO_STACK)
_PSEUDO_HELPER = int(PseudoCall.HELPER)
_TAIL_CALL = int(BpfFunc.tail_call)

# What Checker.run does with an opcode, in the order it asks (the most frequent first); from
# _K_STX on, the instructions that may write the stack, whose writes liveness collects.
(_K_ALU, _K_COND, _K_LDX, _K_LD64, _K_EXIT, _K_JA, _K_JCOND, _K_LD_ABS, _K_LD_BAD,
 _K_STX, _K_ST, _K_CALL) = range(12)


def _kind(code: int) -> int:
    cls = code & CLASS_MASK
    by_class = {InsnClass.ALU: _K_ALU, InsnClass.ALU64: _K_ALU, InsnClass.LDX: _K_LDX,
                InsnClass.STX: _K_STX, InsnClass.ST: _K_ST}
    if cls in by_class:
        return by_class[cls]
    if cls == InsnClass.LD:
        if code & MODE_MASK in (Mode.ABS, Mode.IND):
            return _K_LD_ABS
        return _K_LD64 if code == LD_IMM64_OPCODE else _K_LD_BAD
    op = code & OP_MASK      # JMP, JMP32
    return {JmpOp.CALL: _K_CALL, JmpOp.JA: _K_JA, JmpOp.EXIT: _K_EXIT, JmpOp.JCOND: _K_JCOND}.get(op, _K_COND)


_KIND = bytes(_kind(code) for code in range(256))
assert all((_KIND[code] >= _K_STX) == (not NEVER_WRITES[code]) for code in range(256))


class _Pending:
    __slots__ = ("insn_idx", "log_pos", "prev_insn_idx", "state")

    def __init__(self, state: VerifierState, insn_idx: int, prev_insn_idx: int, log_pos: int) -> None:
        self.state = state
        self.insn_idx = insn_idx
        self.prev_insn_idx = prev_insn_idx
        self.log_pos = log_pos


def _states_maybe_looping(old: VerifierState, cur: VerifierState) -> bool:
    if len(old.frames) != len(cur.frames):     # curframe differs
        return False
    for a, b in zip(old.frames[-1].regs, cur.frames[-1].regs, strict=True):
        # the bounds a loop's counter or accumulator changes first, without a call
        if a.smin != b.smin or a.umax != b.umax or a.var_off != b.var_off:
            return False
        if not (same_value_fields(a, b) and a.id == b.id and a.ref_obj_id == b.ref_obj_id):
            return False
    return True


_STACK_ITER = int(SlotType.STACK_ITER)


def _iter_active(cur: VerifierState) -> bool:
    """Is the iterator R1 points to (the first argument of iter_next) still active?"""
    r1 = cur.frames[-1].regs[1]
    frame = cur.frames[r1.frameno] if r1.frameno < len(cur.frames) else None
    if frame is None or r1.type != RegType.PTR_TO_STACK or r1.var_off.mask:
        return False
    spi = (-(r1.off + r1.var_off.value) - 1) // 8
    return 0 <= spi < len(frame.stack) and frame.stack[spi].spilled_ptr.iter_state == kfuncs.ITER_ACTIVE


def _iter_active_depths_differ(old: VerifierState, cur: VerifierState) -> bool:
    """``iter_active_depths_differ``: an active iterator is at another depth (another iteration)."""
    for fo, fc in zip(old.frames, cur.frames, strict=False):
        for so, sc in zip(fo.stack, fc.stack, strict=False):
            if so.slot_type[7] != _STACK_ITER:
                continue
            a, b = so.spilled_ptr, sc.spilled_ptr
            if a.iter_state == kfuncs.ITER_ACTIVE and a.iter_depth != b.iter_depth:
                return True
    return False


_NOT_INIT = int(RegType.NOT_INIT)


@functools.cache
def _dead_regs(live: int) -> tuple[int, ...]:
    """The registers r0-r9 a liveness mask does not hold."""
    return tuple(r for r in range(10) if not live >> r & 1)


def _clean_state(env: Env, st: VerifierState) -> None:
    """``clean_verifier_state``: forget registers and stack slots the rest of the program never reads."""
    live_stack = env.stack_live
    assert live_stack is not None
    live_stack.query_init(st)
    aux = env.aux
    last = len(st.frames) - 1
    for i, frame in enumerate(st.frames):
        live = aux[st.insn_idx if i == last else st.frames[i + 1].callsite].live_before  # frame_insn_idx
        regs = frame.regs
        for r in _dead_regs(live):
            reg = regs[r]
            # a register NOT_INIT already is left as it is: whatever else it holds, every
            # reader of a checkpoint (regsafe, precision) asks its type first
            if reg.type != _NOT_INIT:
                reg.mark_not_init()
        if frame.stack:
            alive = live_stack.alive_mask(frame.frameno)     # slot_alive of slots 0-63 at once
            for spi in range(len(frame.stack)):
                if spi < 64 and not alive >> spi & 1:
                    frame.clear_slot(spi)     # __mark_reg_not_init + STACK_INVALID bytes


# ---- loops: strongly connected components and their backedges --------------------------------------

_MAX_BACKEDGE_ITERS = 64


def _update_peak_states(env: Env) -> None:
    env.peak_states = max(env.peak_states, env.explored_size + env.free_list + env.num_backedges)


def scc_callchain(env: Env, st: VerifierState) -> tuple[tuple[int, ...], int] | None:
    """``compute_scc_callchain``: the call sites down to the outermost frame that stands in a
    loop, and that loop's SCC id; None when no frame does."""
    frames = st.frames
    if len(frames) == 1:      # the common case: one frame, its instruction's SCC
        scc = env.aux[st.insn_idx].scc
        return ((), scc) if scc else None
    callsites: list[int] = []
    for i in range(len(frames)):
        pc = frame_insn_idx(st, i)
        scc = env.aux[pc].scc
        if scc:
            return tuple(callsites), scc
        if i < len(frames) - 1:
            callsites.append(pc)
    return None


def _format_callchain(chain: tuple[tuple[int, ...], int]) -> str:
    return "(" + "".join(f"{c}," for c in chain[0] if c) + f"{chain[1]})"


def maybe_enter_scc(env: Env, st: VerifierState) -> None:
    """A new checkpoint inside a loop: the first one is that loop visit's entry."""
    chain = scc_callchain(env, st)
    if chain is None:
        return
    visit = env.scc_visits.setdefault(chain, SccVisit())
    if visit.entry_state is None:
        visit.entry_state = st
        if env.log.level >= 2:
            env.verbose(f"SCC enter {_format_callchain(chain)}\n")


def maybe_exit_scc(env: Env, st: VerifierState) -> None:
    """Every path from the loop's entry is explored: propagate precision over its backedges."""
    if not env.scc_visits:    # no loop entered yet
        return
    chain = scc_callchain(env, st)
    if chain is None:
        return
    visit = env.scc_visits.get(chain)
    if visit is None or visit.entry_state is not st:
        return
    if env.log.level >= 2:
        env.verbose(f"SCC exit {_format_callchain(chain)}\n")
    visit.entry_state = None
    _propagate_backedges(env, visit)


def add_scc_backedge(env: Env, st: VerifierState, backedge: VerifierState) -> None:
    chain = scc_callchain(env, st)
    visit = env.scc_visits.get(chain) if chain is not None else None
    if visit is None:   # pragma: no cover - a checkpoint in a loop always has a visit
        return
    if env.log.level >= 2:
        env.verbose(f"SCC backedge {_format_callchain(chain)}\n")  # type: ignore[arg-type]
    visit.backedges.insert(0, backedge)
    env.num_backedges += 1
    _update_peak_states(env)


def incomplete_read_marks(env: Env, st: VerifierState) -> bool:
    """Is ``st`` in a loop whose backedges have not been propagated yet?"""
    if not env.num_backedges:    # the sum of every visit's backedges: none has any
        return False
    chain = scc_callchain(env, st)
    if chain is None:
        return False
    visit = env.scc_visits.get(chain)
    return visit is not None and bool(visit.backedges)


def _propagate_backedges(env: Env, visit: SccVisit) -> None:
    i = 0
    while True:
        i += 1
        if i > _MAX_BACKEDGE_ITERS + 1:
            if env.log.level >= 2:
                env.verbose("propagate_backedges: too many iterations\n")
            for be in visit.backedges:
                precision.mark_all_scalars_precise(env, be)
            break
        changed = False
        for be in visit.backedges:
            assert be.equal_state is not None
            changed |= precision.propagate_precision(env, be.equal_state, be)
        if not changed:
            break
    env.num_backedges -= len(visit.backedges)
    visit.backedges = []


# ---- the loop ------------------------------------------------------------------------------------------

class Checker:
    """One run of ``do_check`` from one entry (the main program or a global function)."""

    def __init__(self, env: Env, state: VerifierState, start: int) -> None:
        self.env = env
        self.st = state
        self.stack: list[_Pending] = []
        self.start = start
        self.scratch_regs = -1
        self.scratch_slots: set[int] | None = None
        # checkpoints cleaned (the kernel's ``cleaned``) and evicted ones not yet freed
        # (``in_free_list``), by id; each dict holds its states so that no id is reused
        self.cleaned: dict[int, VerifierState] = {}
        self.evicted: dict[int, VerifierState] = {}
        self.unsafe_reg: dict[int, int] = {}    # per prune point: see is_state_visited
        self.buckets = len(env.insns) or 1       # of env.explored (explored_bucket)
        self.state_freq = env.options.test_state_freq
        self.level = env.log.level
        env.fork = self.fork

    # --- branching -----------------------------------------------------------------------------

    def push(self, state: VerifierState, insn_idx: int, prev_insn_idx: int) -> None:
        env = self.env
        stack = self.stack
        state.insn_idx = insn_idx
        stack.append(_Pending(state, insn_idx, prev_insn_idx, env.log.mark() if self.level else 0))
        size = env.stack_size = len(stack)
        if size > BPF_COMPLEXITY_LIMIT_JMP_SEQ:
            raise env.error(f"The sequence of {size} jumps is too complex.")
        parent = state.parent
        if parent is not None:
            parent.branches += 1

    def fork(self, insn_idx: int, prev_insn_idx: int) -> VerifierState:
        other = self.st.copy()
        self.push(other, insn_idx, prev_insn_idx)
        return other

    def pop(self) -> bool:
        stack = self.stack
        if not stack:
            return False
        p = stack.pop()
        env = self.env
        env.stack_size = len(stack)
        if self.level == 1:
            env.log.rewind(p.log_pos)
        self.st = p.state
        env.insn_idx = p.insn_idx
        self.prev_insn_idx = p.prev_insn_idx
        return True

    def update_branch_counts(self, st: VerifierState | None) -> None:
        """A path ended: states whose every branch is now explored may leave their loop
        (``maybe_exit_scc``) and, when evicted earlier, be freed."""
        env = self.env
        evicted = self.evicted
        while st is not None:
            st.branches -= 1
            if st.branches:
                break
            if env.scc_visits:     # maybe_exit_scc's first test
                maybe_exit_scc(env, st)
            if evicted and id(st) in evicted and not incomplete_read_marks(env, st):
                del self.evicted[id(st)]
                env.free_list -= 1
            st = st.parent

    # --- pruning -------------------------------------------------------------------------------

    def is_state_visited(self, pc: int) -> bool:
        env = self.env
        cur = self.st
        cur.insn_idx = pc
        # env.explored_bucket(pc, callsite), inlined
        entries = env.explored.get(((pc ^ cur.frames[-1].callsite) & 0xFFFFFFFF) % self.buckets)
        aux = env.aux[pc]
        force_new = self.state_freq or aux.force_checkpoint or len(cur.hist) > 40
        add_new = force_new or (env.jmps_processed - env.prev_jmps_processed >= 2
                                and env.insn_processed - env.prev_insn_processed >= 8)
        if not entries:     # no checkpoint to clean, compare or count: only the new one, maybe
            if add_new:
                if entries is None:
                    entries = env.explored_bucket(pc, cur.frames[-1].callsite)
                self._add_checkpoint(pc, entries)
            return False
        for e in entries:
            old = e.state
            if (not old.branches and old.insn_idx == pc and id(old) not in self.cleaned
                    and old.same_callsites(cur) and not incomplete_read_marks(env, old)):
                _clean_state(env, old)
                self.cleaned[id(old)] = old
        states_cnt = 0
        for e in list(entries):
            states_cnt += 1
            old = e.state
            if old.insn_idx != pc:      # another instruction in the same hash bucket
                continue
            hit = False
            loop = False
            if old.branches:
                if aux.iter_next:
                    # an open-coded iterator loop: a state equal to one of an earlier iteration
                    # whose iterator is still active is a loop that converged
                    if states_equal(env, old, cur, RANGE_WITHIN) and _iter_active(cur):
                        hit = loop = True
                elif aux.calls_callback:
                    if states_equal(env, old, cur, RANGE_WITHIN):
                        hit = loop = True     # a callback's return to its call site is a loop
                else:
                    if (aux.force_checkpoint and env.insns[pc] is not None
                            and env.insns[pc].opcode == InsnClass.JMP | JmpOp.JCOND  # type: ignore[union-attr]
                            and old.may_goto_depth != cur.may_goto_depth
                            and states_equal(env, old, cur, RANGE_WITHIN)):
                        hit = loop = True
                    # a may_goto that is no hit still gets the infinite-loop check (a may_goto to itself)
                r0_old, r0_cur = old.frames[-1].regs[0], cur.frames[-1].regs[0]
                if (not hit and not aux.iter_next and not aux.calls_callback
                        # _states_maybe_looping's most frequent no (r0 differs), without the call
                        and r0_old.smin == r0_cur.smin and r0_old.umax == r0_cur.umax
                        and r0_old.var_off == r0_cur.var_off
                        and _states_maybe_looping(old, cur) and states_equal(env, old, cur, EXACT)
                      and not _iter_active_depths_differ(old, cur)
                      and old.may_goto_depth == cur.may_goto_depth
                      and old.callback_unroll_depth == cur.callback_unroll_depth):
                    env.verbose_linfo(pc)
                    env.error_tail = ["cur state:" + frame_str(cur, cur.frames[-1]),
                                      "old state:" + frame_str(old, old.frames[-1])]
                    raise env.error(f"infinite loop detected at insn {pc}")
                if (not hit and not force_new and env.jmps_processed - env.prev_jmps_processed < 20
                        and env.insn_processed - env.prev_insn_processed < 100):
                    add_new = False
            else:
                # a checkpoint inside a loop whose paths are not all explored yet has incomplete
                # precision marks: compare every scalar's range (RANGE_WITHIN) and remember the hit
                loop = env.num_backedges > 0 and incomplete_read_marks(env, old)
                exact = RANGE_WITHIN if loop else NOT_EXACT
                # the register that kept the last checkpoint here from matching most often
                # keeps the next ones from matching too: asking it first spares the whole walk
                r = self.unsafe_reg.get(pc, -1)
                if r >= 0 and len(old.frames) == len(cur.frames) and reg_unsafe(
                        env, old.frames[-1].regs[r], cur.frames[-1].regs[r], exact):
                    hit = False
                else:
                    hit = states_equal(env, old, cur, exact)
                    if not hit:
                        self.unsafe_reg[pc] = first_unsafe_reg(env, old, cur, exact)
            if hit:
                e.hit_cnt += 1
                if aux.jmp_point:
                    precision.push_history(env, cur)
                precision.propagate_precision(env, old, cur)
                if loop:
                    backedge = cur.copy()
                    backedge.equal_state = old
                    backedge.insn_idx = pc
                    add_scc_backedge(env, old, backedge)
                return True
            if add_new:
                e.miss_cnt += 1
            n = 64 if aux.force_checkpoint and old.branches > 0 else 3
            if e.miss_cnt > e.hit_cnt * n + n:
                entries.remove(e)
                self.cleaned.pop(id(old), None)     # never looked at again
                env.explored_size -= 1
                if old.branches or incomplete_read_marks(env, old):
                    env.free_list += 1       # freed when its last branch ends
                    self.evicted[id(old)] = old
        env.max_states_per_insn = max(env.max_states_per_insn, states_cnt)
        if not env.bpf_capable and states_cnt > BPF_COMPLEXITY_LIMIT_STATES:
            return False
        if add_new:
            self._add_checkpoint(pc, entries)
        return False

    def _add_checkpoint(self, pc: int, entries: list[StateEntry]) -> None:
        """is_state_visited's end: the current state at ``pc`` becomes a checkpoint (a copy of
        it goes into ``entries``, the bucket of ``pc``; the current state goes on as its child)."""
        env = self.env
        cur = self.st
        env.total_states += 1
        env.explored_size += 1
        _update_peak_states(env)
        env.prev_jmps_processed = env.jmps_processed
        env.prev_insn_processed = env.insn_processed
        if env.bpf_capable:
            precision.mark_all_scalars_imprecise(cur)
        hist = cur.hist
        cur.hist = []                # the checkpoint keeps the history (moved, not copied) ...
        new = cur.copy()
        new.hist = hist
        new.insn_idx = pc
        maybe_enter_scc(env, new)
        cur.parent = new
        cur.first_insn_idx = pc
        cur.dfs_depth = new.dfs_depth + 1
        new.bt_memo = cur.bt_memo    # ... and so what walks through it gave
        cur.bt_memo = None
        entries.insert(0, StateEntry(new))

    # --- log ---------------------------------------------------------------------------------------

    def print_insn_state(self) -> None:
        env = self.env
        log = env.log
        if not log.level:
            return
        frame = self.st.frames[-1]
        slots = None if self.scratch_slots is None else self.scratch_slots | env.scratched_slots
        text = frame_str(self.st, frame, self.scratch_regs, slots)
        env.scratched_slots.clear()
        if log.prev_insn_pos >= 0 and log.prev_insn_pos == log.mark():
            log.rewind(log.prev_insn_pos - 1)
            col = ((max(log.prev_insn_len + 5, 40) + 7) // 8) * 8 - 2
            log.write(" " * (col - log.prev_insn_len) + ";" + text + "\n")
        else:
            log.write(f"{env.insn_idx}:{text}\n")
        self.scratch_regs = 0
        self.scratch_slots = set()

    def _scratch(self, insn: Instruction) -> None:
        """Which registers the instruction touched (for the log's state note; the checks record
        the stack slots in ``env.scratched_slots``)."""
        cls = insn.opcode & CLASS_MASK
        regs = 1 << insn.dst if insn.dst <= 10 else 0
        if cls in (InsnClass.JMP, InsnClass.JMP32):
            op = insn.opcode & OP_MASK
            if op == JmpOp.CALL:
                regs = 0x3F
            elif op in (JmpOp.EXIT, JmpOp.JA, JmpOp.JCOND):
                regs = 0
            elif insn.opcode & SOURCE_MASK and insn.src <= 10:
                regs |= 1 << insn.src
        elif cls in (InsnClass.ALU, InsnClass.ALU64):
            if insn.opcode & SOURCE_MASK and insn.opcode & OP_MASK != AluOp.END and insn.src <= 10:
                regs |= 1 << insn.src
        elif cls in (InsnClass.LDX, InsnClass.STX, InsnClass.ST):
            if cls != InsnClass.ST and insn.src <= 10:
                regs |= 1 << insn.src
            if cls == InsnClass.STX and insn.opcode & MODE_MASK == Mode.ATOMIC and insn.imm == 0xF1:
                regs |= 1
        elif cls == InsnClass.LD and insn.opcode & MODE_MASK in (Mode.ABS, Mode.IND):
            regs = 0x3F | (1 << 6)
        self.scratch_regs = regs if self.scratch_regs == -1 else self.scratch_regs | regs
        if self.scratch_slots is None:
            self.scratch_slots = set()

    def print_insn(self, pc: int, insn: Instruction) -> None:
        env = self.env
        log = env.log
        if not log.level:
            return
        if self.scratch_regs:
            self.print_insn_state()
        env.verbose_linfo(pc)
        text = f"{pc}: {insn_text(insn, pc, env.maps, env.kfunc_log_name)}"
        log.write(text + "\n")
        log.prev_insn_pos = log.mark()
        log.prev_insn_len = len(text)

    # --- run -------------------------------------------------------------------------------------

    def run(self) -> None:
        env = self.env
        insns_tab = env.insns
        n = len(insns_tab)
        aux = env.aux
        limit = env.options.insn_limit
        env.insn_idx = self.start
        prev = -1
        do_print_state = False
        level = env.log.level
        live = env.stack_live
        assert live is not None
        live.reset_callchain()
        push_history = precision.push_history
        do_alu, do_ldx, do_stx = insns.do_alu, insns.do_ldx, insns.do_stx
        kinds = _KIND
        while True:
            pc = env.insn_idx
            if pc >= n or pc < 0:
                raise env.error(f"invalid insn idx {pc} insn_cnt {n}")
            insn = insns_tab[pc]
            if insn is None:
                raise env.error(f"invalid insn idx {pc} insn_cnt {n}")
            env.prev_insn_idx = prev
            processed = env.insn_processed = env.insn_processed + 1
            if processed > limit:
                raise env.error(f"BPF program is too large. Processed {processed} insn")
            st = self.st
            st.last_insn_idx = prev
            a = aux[pc]
            if a.prune_point and self.is_state_visited(pc):
                if level:
                    if do_print_state:
                        env.verbose(f"\nfrom {prev} to {pc}: safe\n")
                    else:
                        env.verbose(f"{pc}: safe\n")
                if not self._finish_path():
                    return
                prev = self.prev_insn_idx
                do_print_state = True
                continue
            if a.jmp_point:
                push_history(env, st)
            if level:
                if level >= 2 and do_print_state:
                    env.verbose(f"\nfrom {prev} to {pc}:{frame_str(st, st.frames[-1])}\n")
                    do_print_state = False
                self.print_insn(pc, insn)
                self._scratch(insn)
            prev = pc
            a.seen = True
            k = kinds[insn.opcode]
            if k == _K_ALU:
                do_alu(env, st, insn)
            elif k == _K_COND:
                env.jmps_processed += 1
                self._cond_jmp(insn)
            elif k == _K_LDX:
                do_ldx(env, st, insn)
            elif k >= _K_STX:
                # the instructions that may write the stack (liveness.NEVER_WRITES): their writes
                # are collected (live.reset_write_marks(st, pc), inlined) ...
                if live.cur is None:
                    live.cur = live.lookup(st, len(st.frames) - 1)
                live.write_idx = pc
                if live.write_any:
                    live._clear_writes()
                if k == _K_STX:
                    do_stx(env, st, insn)
                elif k == _K_ST:
                    insns.do_st(env, st, insn)
                else:
                    env.jmps_processed += 1
                    self._call(insn)
                    if (len(st.frames) > 1 and insn.src == _PSEUDO_HELPER and insn.imm == _TAIL_CALL
                            and self.st is st):
                        # a tail call that succeeds leaves the subprogram (and may have changed the packet)
                        self._possible_exit(st, zero_r0=False)
                        do_print_state = False
                        continue
                inst = live.cur     # ... and committed (live.commit(), its first exit inlined)
                if inst is not None:
                    if inst.settled[live.write_idx - inst.start]:
                        live.write_idx = 0
                    else:
                        live._commit(inst)
            elif k == _K_LD64:
                insns.do_ld_imm64(env, st, insn)
                env.insn_idx += 1
            elif k == _K_EXIT:
                env.jmps_processed += 1
                if (insn.opcode & SOURCE_MASK or insn.imm or insn.src or insn.dst
                        or insn.opcode & CLASS_MASK != _JMP):
                    raise env.error("BPF_EXIT uses reserved fields")
                if len(st.frames) > 1:
                    live.update(st)
                    env.insn_idx = calls.prepare_func_exit(env, st)
                    do_print_state = True
                    continue
                fields.lock_exit_error(env, st, "BPF_EXIT instruction in main prog")
                calls.check_reference_leak(env, st, "BPF_EXIT instruction in main prog")
                calls.check_return_code(env, st)
                if not self._finish_path():
                    return
                prev = self.prev_insn_idx
                do_print_state = True
                continue
            elif k == _K_JA:
                env.jmps_processed += 1
                cls = insn.opcode & CLASS_MASK
                if (insn.opcode & SOURCE_MASK or insn.src or insn.dst
                        or (cls == _JMP and insn.imm) or (cls != _JMP and insn.off)):
                    raise env.error("BPF_JA uses reserved fields")
                env.insn_idx += (insn.off if cls == _JMP else insn.imm) + 1
                continue
            elif k == _K_JCOND:
                env.jmps_processed += 1
                self._may_goto(insn)
                continue
            elif k == _K_LD_ABS:
                insns.do_ld_abs(env, st, insn)
                if len(st.frames) > 1:   # a failed load returns 0 from the subprogram: a possible exit
                    self._possible_exit(st, zero_r0=True)
                    do_print_state = False   # the kernel prints no "from X to Y" for this return
                    continue
            else:
                raise env.error("invalid BPF_LD mode")
            env.insn_idx += 1

    def _finish_path(self) -> bool:
        """``process_bpf_exit``: this path is done; continue with a pending one (False: none left)."""
        self.update_branch_counts(self.st)
        live = self.env.stack_live
        assert live is not None
        live.update(self.st)
        self.scratch_regs = -1
        self.scratch_slots = None
        return self.pop()

    def _cond_jmp(self, insn: Instruction) -> None:
        env = self.env
        st = self.st
        pc = env.insn_idx
        dst, src, op, jmp32 = insns.check_cond_jmp(env, st, insn)
        is_x = insn.opcode & SOURCE_MASK
        flags = 0
        if is_x and src.type == _PTR_TO_STACK:
            flags |= precision.INSN_F_SRC_REG_STACK
        if dst.type == _PTR_TO_STACK:
            flags |= precision.INSN_F_DST_REG_STACK
        if flags:
            precision.push_history(env, st, flags=flags)
        pred = insns.is_branch_taken(dst, src, op, jmp32)
        regs = st.frames[-1].regs
        rdst = regs[insn.dst]
        rsrc = regs[insn.src] if is_x else None
        if pred >= 0:
            if rdst.type == _SCALAR:
                precision.mark_chain_precision(env, st, insn.dst)
            if rsrc is not None and rsrc.type == _SCALAR:
                precision.mark_chain_precision(env, st, insn.src)
            self.print_insn_state()
            if pred == 1:
                env.insn_idx += insn.off
            return
        linked: list[tuple[int, int, bool]] = []
        if (rsrc is not None and rsrc.type == _SCALAR and rsrc.id) or (rdst.type == _SCALAR and rdst.id):
            ids: list[int] = []
            if rsrc is not None and rsrc.type == _SCALAR and rsrc.id:
                ids.append(rsrc.id)
            if rdst.type == _SCALAR and rdst.id:
                ids.append(rdst.id)
            linked = transfer.linked_positions(env, st, tuple(ids))
            if len(linked) > 1:
                precision.push_history(env, st, linked=tuple(linked))
        other = self.fork(pc + insn.off + 1, pc)
        insns.refine_branches(env, st, other, insn, op, jmp32, None if is_x else src, linked)
        self.print_insn_state()

    def _may_goto(self, insn: Instruction) -> None:
        env = self.env
        # ``may_goto +0`` is valid (both ways lead to the next instruction; the kernel drops it later)
        if insn.src != 0 or insn.dst or insn.imm or insn.opcode != InsnClass.JMP | JmpOp.JCOND:
            raise env.error(f"invalid may_goto imm {insn.imm}")
        pc = env.insn_idx
        parent = self.st.parent
        queued = self.fork(pc + 1, pc)
        queued.may_goto_depth += 1
        # the previous iteration's checkpoint here: imprecise scalars that changed since are
        # forgotten in the state that goes on looping, so the loop converges
        prev = calls._find_prev_entry(env, parent, pc) if parent is not None else None
        if prev is not None:
            widen_imprecise_scalars(prev, queued)
        env.insn_idx += insn.off + 1

    def _possible_exit(self, st: VerifierState, *, zero_r0: bool) -> None:
        """An instruction that may leave the current subprogram (LD_ABS/IND failing, a tail call
        succeeding): the path that goes on is pushed, this one returns to the caller."""
        env = self.env
        self.push(st.copy(), env.insn_idx + 1, env.insn_idx)
        r0 = st.frames[-1].regs[0]
        if zero_r0:
            r0.mark_known(0)
        else:
            transfer.clear_all_pkt_pointers(env, st)
            r0.mark_unknown()
        live = env.stack_live
        assert live is not None
        live.update(st)
        env.insn_idx = calls.prepare_func_exit(env, st)

    def _call(self, insn: Instruction) -> None:
        env = self.env
        st = self.st
        cls = insn.opcode & CLASS_MASK
        if (insn.opcode & SOURCE_MASK or (insn.src != PseudoCall.KFUNC and insn.off != 0)
                or insn.src not in (0, PseudoCall.CALL, PseudoCall.KFUNC) or insn.dst != 0
                or cls == InsnClass.JMP32):
            raise env.error("BPF_CALL uses reserved fields")
        if st.active_locks and insn.src == PseudoCall.HELPER and insn.imm != BpfFunc.spin_unlock:
            raise env.error("function calls are not allowed while holding a lock")
        if st.active_locks and insn.src == PseudoCall.KFUNC:   # kfunc_spin_allowed: the graph kfuncs
            graph.check_lock_call(env, st, env.kfunc_log_name(insn) if insn.off == 0 else "")
        if insn.src == PseudoCall.CALL:
            target = env.insn_idx + insn.imm + 1
            depth = st.curframe
            nxt = calls.do_subprog_call(env, st, target)
            if st.curframe != depth:   # entered the callee (a global function is only assumed valid)
                assert env.stack_live is not None
                env.stack_live.reset_callchain()
                if self.scratch_regs != -1:
                    self.scratch_regs |= 1 << 10
            env.insn_idx = nxt - 1
            return
        if insn.src == PseudoCall.KFUNC:
            callback = kfuncs.check_kfunc_call(env, st, insn)
        else:
            callback = calls.do_helper_call(env, st, insn.imm)
        if callback is not None:
            self.push(callback, callback.insn_idx, env.insn_idx)
            self.scratch_regs = 0x7FF          # setting up the callee's frame marks the state scratched
            self.scratch_slots = set(range(64))


def do_check(env: Env, state: VerifierState, start: int) -> None:
    """Explore every path from ``start``; raises ProgramError on the first unsafe instruction."""
    env.scc_visits.clear()      # per do_check_common(), like the kernel's free_states()
    env.num_backedges = 0
    env.free_list = 0
    # The states form no reference cycles (parents, frames, registers point one way), so
    # reference counting frees them; the cycle collector would only walk the ever-growing set
    # of checkpoints again and again (a quarter of a large program's time).  It is paused for
    # the walk and resumed as it was.
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        Checker(env, state, start).run()
    finally:
        if collecting:
            gc.enable()


def initial_state(env: Env, subprog: int) -> VerifierState:
    """``do_check_common``: R1 = ctx for the main program, the BTF arguments for a global function."""
    st = VerifierState()
    frame = FuncState(0, -1, subprog)
    st.frames.append(frame)
    regs = frame.regs
    sp = env.subprogs[subprog]
    st.first_insn_idx = sp.start
    if subprog == 0:
        regs[1].mark_known_zero()
        regs[1].type = RegType.PTR_TO_CTX
        return st
    globalargs.init_args(env, sp, regs)
    return st


#: check_max_stack_depth's scan: the opcodes of a call (a bpf-to-bpf one) and of ld_imm64 (of
#: a function's address), with the pseudo source that makes them one (plain ints: an IntEnum
#: member read off its class is slow)
_STACK_SITES = {int(InsnClass.JMP | JmpOp.CALL): int(PseudoCall.CALL),
                int(LD_IMM64_OPCODE): int(PseudoLoad.FUNC)}


def check_max_stack_depth(env: Env) -> None:
    """``check_max_stack_depth``: along any chain of bpf-to-bpf calls the frames fit in 512 bytes,
    counted after ``remove_fastcall_spills_fills`` (:mod:`.fastcall`).  (Upstream's x86-64 JIT runs
    some tracing programs' large frames on a private stack, checked alone; the kernels this was
    measured on do not, and neither does this check.)"""
    fastcall.remove_spills_fills(env)
    subprogs = env.subprogs
    insns = env.insns
    starts = {sp.start: i for i, sp in enumerate(subprogs)}
    # per function, its calls and the callbacks whose address it takes (ld_imm64 of a function,
    # counted as a call from here), in pc order: (pc, callee's index or -1)
    sites: list[list[tuple[int, int]]] = []
    for sp in subprogs:
        out: list[tuple[int, int]] = []
        for pc, insn in enumerate(insns[sp.start:sp.end], sp.start):
            if insn is not None and insn.opcode in _STACK_SITES and insn.src == _STACK_SITES[insn.opcode]:
                out.append((pc, starts.get(pc + insn.imm + 1, -1)))
        sites.append(out)

    _walk_stack(env, sites, 0, 0, 0, 0)
    for i, sp in enumerate(subprogs):   # an async callback (a timer's) runs on a stack of its own
        if i and sp.is_async_cb:
            _walk_stack(env, sites, i, 0, 0, sp.start)


def _walk_stack(env: Env, sites: list[list[tuple[int, int]]], idx: int, frame: int, depth: int,
                callsite: int) -> None:
    """check_max_stack_depth's walk: function ``idx`` called at ``callsite`` as frame ``frame``
    of a chain whose earlier frames hold ``depth`` bytes.  (A function of the module, not a
    recursive closure: a closure that calls itself is a reference cycle that outlives the run.)"""
    subprogs = env.subprogs
    sp = subprogs[idx]
    if idx and sp.has_tail_call and depth >= 256:
        raise env.error(f"tail_calls are not allowed when call stack of previous frames is {depth} bytes. "
                        "Too large", callsite)
    d = sp.stack_depth
    depth += ((max(d, 1) + 15) // 16) * 16 if d else 0
    if depth > MAX_BPF_STACK:
        raise env.error(f"combined stack size of {frame + 1} calls is {depth}. Too large", callsite)
    for pc, callee in sites[idx]:
        if callee < 0 or subprogs[callee].is_async_cb:
            continue
        if frame + 1 >= MAX_CALL_FRAMES:
            raise env.error(f"the call stack of {frame + 1} frames is too deep !", pc)
        _walk_stack(env, sites, callee, frame + 1, depth, pc)
