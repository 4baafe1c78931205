"""Stack slot liveness as Linux 6.18 computes it (kernel/bpf/liveness.c).

The analysis is path-insensitive and call-chain sensitive: while paths are explored, every
instruction records, per call chain and per frame, the stack slots it *may read* (a union over
all visits) and the slots it *must write* (an intersection: full, aligned 8-byte stores only).
At the end of each path (and at each function exit) a textbook backward data flow turns these
into ``live_before`` sets::

    live_before[i] = (U live_before[s] for s in succ(i)) / must_write[i]  U  may_read[i]

and the entry of a callee passes its reads and guaranteed writes of the caller's frames to the
call instruction of the caller's chain.  A checkpoint's stack slot that no visited instruction
may read afterwards is forgotten when the checkpoint is cleaned, so states that differ only in
dead slots prune each other.

Unvisited instructions have empty sets and are transparent; the result is exactly as good as
the paths explored so far, which is why the kernel only cleans checkpoints whose every branch
has been explored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from bpfbuild.isa.fields import CLASS_MASK, OP_MASK, InsnClass, JmpOp
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.verifier.fastenum import members
from bpfbuild.verifier.log import VerifierLog
from bpfbuild.verifier.opkinds import CALL, COND, EXIT, JA, LD64, PLAIN, VISIT_KIND

if TYPE_CHECKING:
    from bpfbuild.verifier.state import VerifierState


class Env(Protocol):
    """What stack liveness reads of the verifier's environment (:class:`bpfbuild.verifier.env.Env`
    provides it; a Protocol, so that env, which holds a StackLiveness, and liveness do not
    import each other)."""

    insns: list[Instruction | None]
    subprogs: list[Any]
    aux: list[Any]
    log: VerifierLog

    def find_containing_subprog(self, pc: int) -> int: ...
    def verbose(self, text: str) -> None: ...

# plain-class views of the enums read per instruction (see .fastenum)
InsnClass, JmpOp = members(InsnClass), members(JmpOp)

__all__ = ["NEVER_WRITES", "StackLiveness", "insn_successors", "postorder"]

_ALL = (1 << 64) - 1
_MAX_FRAMES = 8


def insn_successors(env: Env, pc: int) -> tuple[int, ...]:
    """``bpf_insn_successors``: fall-through and jump targets (a call only falls through)."""
    insn = env.insns[pc]
    if insn is None:
        return (pc + 1,)
    cls = insn.opcode & CLASS_MASK
    if cls not in (InsnClass.JMP, InsnClass.JMP32):
        return (pc + (2 if insn.opcode == LD_IMM64_OPCODE else 1),)
    op = insn.opcode & OP_MASK
    if op == JmpOp.EXIT:
        return ()
    if op == JmpOp.CALL:
        return (pc + 1,)
    off = insn.imm if insn.opcode == InsnClass.JMP32 | JmpOp.JA else insn.off
    if op == JmpOp.JA:
        return (pc + off + 1,)
    return (pc + 1, pc + off + 1)


_JA32 = int(InsnClass.JMP32 | JmpOp.JA)

#: by opcode, the instructions that never mark a stack write (no store, no call: ALU, loads,
#: jumps, exit): their must-write sets are empty for good, so the explorer need not collect
#: and commit their writes (bpf_reset_stack_write_marks/bpf_commit_stack_write_marks)
NEVER_WRITES = bytes(
    code & CLASS_MASK in (InsnClass.ALU, InsnClass.ALU64, InsnClass.LDX, InsnClass.LD)
    or (code & CLASS_MASK in (InsnClass.JMP, InsnClass.JMP32) and code & OP_MASK != JmpOp.CALL)
    for code in range(256))


def postorder(env: Env) -> list[list[int]]:
    """``compute_postorder``: per function, its instructions in DFS post-order."""
    out: list[list[int]] = []
    state = [0] * (len(env.insns) + 1)     # 1: discovered, 3: done (a fall-through may reach n)
    for sp in env.subprogs:
        order: list[int] = []
        stack = [sp.start]
        state[sp.start] |= 1
        while stack:
            top = stack[-1]
            if state[top] & 2:
                order.append(top)
                stack.pop()
                continue
            for s in insn_successors(env, top):
                if not state[s]:
                    stack.append(s)
                    state[s] = 1
            state[top] = 3
        out.append(order)
    return out


def _fmt_stack_mask(mask: int) -> str:
    return ",".join(str(-(spi + 1) * 8) for spi in range(64) if mask >> spi & 1)


def _log_change(env: Env, chain: str, what: str, frame: int, pc: int, old: int, new: int) -> None:
    """``log_mask_change``: ``(0) frame 0 insn 9 +live -16`` at log level 2."""
    changed = old ^ new
    if not changed:
        return
    text = f"{chain} frame {frame} insn {pc} "
    ones, zeros = new & changed, ~new & changed
    if ones:
        text += f"+{what} {_fmt_stack_mask(ones)} "
    if zeros:
        text += f"-{what} {_fmt_stack_mask(zeros)}"
    env.verbose(text + "\n")


class _Instance:
    """``struct func_instance``: the marks of one function for one call chain."""

    __slots__ = (
        "acc",
        "curframe",
        "dropped",
        "key",
        "live",
        "may_read",
        "must_write",
        "must_write_set",
        "n",
        "settled",
        "sp_starts",
        "start",
        "subprog",
        "updated",
    )

    def __init__(self, key: tuple[int, ...], sp_starts: tuple[int, ...], subprog: int, n: int) -> None:
        self.key = key
        self.sp_starts = sp_starts
        self.curframe = len(key) - 1
        self.start = sp_starts[-1]
        self.subprog = subprog
        self.n = n
        frames = self.curframe + 1
        self.may_read: list[list[int] | None] = [None] * frames
        self.must_write: list[list[int] | None] = [None] * frames
        self.acc: list[list[int] | None] = [None] * frames
        self.live: list[list[int] | None] = [None] * frames
        self.must_write_set = [False] * n
        #: instructions whose must-write set is empty in every frame: an intersection only
        #: shrinks, so committing there can change nothing any more
        self.settled = [False] * n
        self.updated = False
        self.dropped = False

    def alloc(self, frame: int) -> None:
        if self.may_read[frame] is None:
            n = self.n
            self.may_read[frame] = [0] * n
            self.must_write[frame] = [0] * n
            self.acc[frame] = [0] * n
            self.live[frame] = [0] * n


class StackLiveness:
    """``struct bpf_liveness``: every call chain's function instance, and the marks of the
    instruction being verified."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.instances: dict[tuple[int, ...], _Instance] = {}
        self.cur: _Instance | None = None
        self.write_acc = [0] * _MAX_FRAMES
        self.write_any = False     # a mark_write since the last reset
        self.write_idx = 0
        self._order: list[list[int]] | None = None
        self.succ: dict[int, tuple[int, ...]] = {}
        self.plans: dict[int, tuple[list[tuple[int, int, int]], bool]] = {}
        self.outermost: dict[int, _Instance] = {}   # subprogno -> the instance of key (start,)
        self.q_instances: list[_Instance] = []
        self.q_insn = 0

    # --- instances ---------------------------------------------------------------------------

    def _lookup_key(self, key: tuple[int, ...], sp_starts: tuple[int, ...]) -> _Instance:
        inst = self.instances.get(key)
        if inst is None:
            env = self.env
            subprog = env.find_containing_subprog(sp_starts[-1])
            sp = env.subprogs[subprog]
            inst = _Instance(key, sp_starts, subprog, sp.end - sp.start)
            self.instances[key] = inst
        return inst

    def lookup(self, st: VerifierState, frameno: int) -> _Instance:
        """``lookup_instance``: the instance of ``st``'s call chain up to frame ``frameno``."""
        subprogs = self.env.subprogs
        frames = st.frames
        if not frameno:     # the outermost frame: its function's start is the whole key
            inst = self.outermost.get(frames[0].subprogno)
            if inst is None:
                start = subprogs[frames[0].subprogno].start
                inst = self.outermost[frames[0].subprogno] = self._lookup_key((start,), (start,))
            return inst
        sp_starts = tuple(subprogs[frames[i].subprogno].start for i in range(frameno + 1))
        key = tuple(frames[i + 1].callsite for i in range(frameno)) + (sp_starts[-1],)
        return self._lookup_key(key, sp_starts)

    def reset_callchain(self) -> None:
        """``bpf_reset_live_stack_callchain``: the current state entered or left a function."""
        self.cur = None

    def _ensure_cur(self, st: VerifierState) -> _Instance:
        if self.cur is None:
            self.cur = self.lookup(st, st.curframe)
        return self.cur

    # --- marks ---------------------------------------------------------------------------------

    def mark_read(self, st: VerifierState, frame: int, pc: int, mask: int) -> None:
        """``bpf_mark_stack_read``: instruction ``pc`` may read these slots of ``frame``."""
        self._mark_read(self._ensure_cur(st), frame, pc, mask)

    @staticmethod
    def _mark_read(inst: _Instance, frame: int, pc: int, mask: int) -> None:
        inst.alloc(frame)
        may_read = inst.may_read[frame]
        live = inst.live[frame]
        assert may_read is not None and live is not None
        i = pc - inst.start
        new = may_read[i] | mask
        if new != may_read[i] and (new | live[i]) != live[i]:
            inst.updated = True
        may_read[i] = new

    def reset_write_marks(self, st: VerifierState, pc: int) -> None:
        """``bpf_reset_stack_write_marks``: start collecting the writes of instruction ``pc``."""
        if self.cur is None:
            self.cur = self.lookup(st, st.curframe)
        self.write_idx = pc
        if self.write_any:
            self._clear_writes()

    def _reset(self, inst: _Instance, pc: int) -> None:
        self.write_idx = pc
        if self.write_any:
            self._clear_writes()

    def _clear_writes(self) -> None:
        # every frame, not only the instance's: _commit reads the instance's frames only, and
        # the deeper entries are zero for the next instance that reads them either way
        self.write_acc = [0] * _MAX_FRAMES
        self.write_any = False

    def mark_write(self, frame: int, mask: int) -> None:
        """``bpf_mark_stack_write``: the current instruction overwrites these whole slots."""
        self.write_acc[frame] |= mask
        self.write_any = True

    def commit(self) -> None:
        """``bpf_commit_stack_write_marks``: the instruction completed; intersect its writes."""
        inst = self.cur
        if inst is None:
            return
        if inst.settled[self.write_idx - inst.start]:     # _commit's first exit, without the call
            self.write_idx = 0
            return
        self._commit(inst)

    def _commit(self, inst: _Instance | None) -> None:
        if inst is None:
            return
        idx = self.write_idx - inst.start
        self.write_idx = 0
        if inst.settled[idx]:
            return
        seen = inst.must_write_set[idx]
        inst.must_write_set[idx] = True
        if not seen and not self.write_any:
            # a first visit that writes nothing: the intersection is empty for good
            inst.settled[idx] = True
            return
        zero = seen
        for frame in range(inst.curframe + 1):
            mask = self.write_acc[frame]
            if mask == 0 and not seen:
                continue
            inst.alloc(frame)
            must_write = inst.must_write[frame]
            assert must_write is not None
            old = must_write[idx]
            if seen:
                mask &= old
            if old != mask:
                must_write[idx] = mask
                inst.updated = True
            if old & ~mask:
                inst.dropped = True
            if mask:
                zero = False
        inst.settled[idx] = zero

    # --- propagation ---------------------------------------------------------------------------

    def update(self, st: VerifierState) -> None:
        """``bpf_update_live_stack``: bring every instance of ``st``'s call chain up to date
        (called at the end of a path and at each function exit)."""
        self.cur = None
        for frame in range(len(st.frames) - 1, -1, -1):
            inst = self.lookup(st, frame)
            if inst.updated:
                self._update_instance(inst)
                inst.updated = False
                inst.dropped = False

    @property
    def order(self) -> list[list[int]]:
        """Each function's post-order, computed when a first instance is brought up to date."""
        if self._order is None:
            self._order = postorder(self.env)
        return self._order

    def _successors(self, pc: int) -> tuple[int, ...]:
        s = self.succ.get(pc)
        if s is None:
            s = self.succ[pc] = insn_successors(self.env, pc)
        return s

    def _plan(self, subprog: int) -> tuple[list[tuple[int, int, int]], bool]:
        """A function's post-order as (insn, successor, second successor or -1) offsets from its
        start (exits, which have no successor, left out), and whether it has no loop (no edge
        to an instruction that is not earlier in post-order)."""
        plan = self.plans.get(subprog)
        if plan is None and self.env.log.level < 2:
            # no log of the rounds to keep in post-order: a function whose every edge leads
            # forward is done in one round from its last instruction back as well
            plan = self._forward_plan(subprog)
            if plan is not None:
                self.plans[subprog] = plan
        if plan is None:
            order = self.order[subprog]
            start = self.env.subprogs[subprog].start
            pos = {pc: k for k, pc in enumerate(order)}
            steps: list[tuple[int, int, int]] = []
            acyclic = True
            successors = self._successors
            for k, pc in enumerate(order):
                succ = successors(pc)
                if not succ:
                    continue
                a = succ[0]
                b = succ[1] if len(succ) > 1 else -1
                if pos.get(a, -1) >= k or (b >= 0 and pos.get(b, -1) >= k):
                    acyclic = False
                steps.append((pc - start, a - start, b - start if b >= 0 else -1))
            plan = self.plans[subprog] = (steps, acyclic)
        return plan

    def _forward_plan(self, subprog: int) -> tuple[list[tuple[int, int, int]], bool] | None:
        """:meth:`_plan` of a function whose every edge leads to a later instruction of it:
        its instructions from the last back (each one's successors come before it, the order
        of one round to the fixed point, whatever round the post-order would make); None
        when an edge leads back (or out of it)."""
        sp = self.env.subprogs[subprog]
        start, end = sp.start, sp.end
        insns = self.env.insns
        last = insns[end - 1]
        if last is not None and VISIT_KIND[last.opcode] in (PLAIN, CALL, COND):   # falls out
            return None
        steps: list[tuple[int, int, int]] = []
        for pc in range(end - 1, start - 1, -1):
            insn = insns[pc]
            if insn is None:
                continue
            code = insn.opcode
            kind = VISIT_KIND[code]
            i = pc - start
            if kind == PLAIN or kind == CALL:
                steps.append((i, i + 1, -1))
                continue
            if kind == EXIT:
                continue
            if kind == LD64:
                j = i + 2
                if j + start >= end:
                    return None
                steps.append((i, j, -1))
                continue
            j = i + 1 + (insn.imm if code == _JA32 else insn.off)
            if j <= i or j + start >= end:
                return None
            steps.append((i, j, -1) if kind == JA else (i, i + 1, j))
        return steps, True

    def _update_instance(self, inst: _Instance) -> None:
        """``update_instance``: the fixed point of ``live_before`` and ``must_write_acc``, by
        rounds over the function in post-order until nothing changes.  In a function without
        loops every successor comes before its instruction in post-order, so the first round
        reaches the fixed point and a second one would change (and log) nothing: it is only
        counted."""
        if inst.dropped:
            for acc in inst.acc:
                if acc is not None:
                    acc[:] = [0] * inst.n
        steps, acyclic = self._plan(inst.subprog)
        start = inst.start
        log2 = self.env.log.level >= 2
        aux = self.env.aux
        chain = "(" + ",".join(str(c) for c in inst.key) + ")"
        changed = True
        iterations = 0
        while changed:
            iterations += 1
            changed = False
            for frame in range(inst.curframe + 1):
                may_read = inst.may_read[frame]
                if may_read is None:
                    continue
                must_write = inst.must_write[frame]
                acc = inst.acc[frame]
                live = inst.live[frame]
                assert must_write is not None and acc is not None and live is not None
                for i, j, k in steps:
                    if k < 0:
                        after = live[j]
                        wacc = acc[j]
                    else:
                        after = live[j] | live[k]
                        wacc = acc[j] & acc[k]
                    mw = must_write[i]
                    wacc |= mw
                    before = (after & ~mw) | may_read[i]
                    if log2 and (may_read[i] or mw or i == 0 or aux[start + i].prune_point):
                        _log_change(self.env, chain, "live", frame, start + i, live[i], before)
                        _log_change(self.env, chain, "written", frame, start + i, acc[i], wacc)
                    if before != live[i] or wacc != acc[i]:
                        changed = True
                        live[i] = before
                        acc[i] = wacc
            if changed and acyclic:
                iterations += 1
                break
        if log2:
            self.env.verbose(f"{chain} live stack update done in {iterations} iterations\n")
        if inst.curframe > 0:
            self._propagate_to_outer(inst)

    def _propagate_to_outer(self, inst: _Instance) -> None:
        """The callee's entry: its reads (and sure writes) of outer frames happen at the call."""
        cf = inst.curframe
        outer_starts = inst.sp_starts[:cf]
        outer = self._lookup_key(inst.key[:cf - 1] + (outer_starts[-1],), outer_starts)
        callsite = inst.key[cf - 1]
        self._reset(outer, callsite)
        for frame in range(cf):
            live = inst.live[frame]
            acc = inst.acc[frame]
            if live is None or acc is None:
                continue
            self.mark_write(frame, acc[0])
            self._mark_read(outer, frame, callsite, live[0])
        self._commit(outer)

    # --- queries -------------------------------------------------------------------------------

    def query_init(self, st: VerifierState) -> None:
        """``bpf_live_stack_query_init``: the next :meth:`slot_alive` calls are about ``st``."""
        self.q_instances = [self.lookup(st, f) for f in range(st.curframe + 1)]
        self.q_insn = st.insn_idx

    def alive_mask(self, frameno: int) -> int:
        """The stack slots 0-63 of frame ``frameno`` :meth:`slot_alive` says may still be read,
        as a bit mask (bit ``spi``)."""
        instances = self.q_instances
        inner = instances[-1]
        live = inner.live[frameno]
        mask = live[self.q_insn - inner.start] if live is not None else 0
        aux = self.env.aux
        for i in range(frameno, len(instances) - 1):
            callsite = inner.key[i]
            pc = callsite if aux[callsite].calls_callback else callsite + 1
            inst = instances[i]
            live = inst.live[frameno]
            if live is not None:
                mask |= live[pc - inst.start]
        return mask

    @staticmethod
    def _live_before(inst: _Instance, pc: int, frame: int, spi: int) -> bool:
        live = inst.live[frame]
        return live is not None and bool(live[pc - inst.start] >> spi & 1)

    def slot_alive(self, frameno: int, spi: int) -> bool:
        """``bpf_stack_slot_alive``: may slot ``spi`` of frame ``frameno`` still be read, in the
        innermost function or after any of the calls on the chain?"""
        if spi >= 64:
            return True
        instances = self.q_instances
        inner = instances[-1]
        if self._live_before(inner, self.q_insn, frameno, spi):
            return True
        aux = self.env.aux
        for i in range(frameno, len(instances) - 1):
            callsite = inner.key[i]
            pc = callsite if aux[callsite].calls_callback else callsite + 1
            if self._live_before(instances[i], pc, frameno, spi):
                return True
        return False
