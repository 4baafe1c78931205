"""``bpf_fastcall``: the spill/fill pairs the kernel removes, and the stack depth that follows.

A call to a ``bpf_fastcall`` function (a helper whose prototype has ``allow_fastcall`` and that
the verifier or the JIT inlines, or a ``KF_FASTCALL`` kfunc) scratches only r0 (when it returns
a value) and its argument registers.  clang keeps the other r0-r5 live across such a call and,
for kernels that do not know the contract, surrounds it with spills and fills of those registers
to the lowest stack slots of the function::

    *(u64 *)(r10 - 16) = r1          ; spill, at the lowest offset + 8 * (i - 1)
    call bpf_get_smp_processor_id
    r1 = *(u64 *)(r10 - 16)          ; fill of the same register from the same slot

Linux 6.18 (``mark_fastcall_patterns``, ``check_fastcall_stack_contract``,
``remove_fastcall_spills_fills`` in kernel/bpf/verifier.c) finds those pairs before verifying,
checks while verifying that no other instruction touches their slots, and afterwards removes the
pairs around the calls it inlines: the function's stack depth then ends where the pattern slots
begin, and ``check_max_stack_depth`` counts that smaller depth (a program whose frames add up
to 512 bytes only with the pairs' slots is accepted).

What is modelled here and what the kernel does:

- :func:`mark_patterns` (``mark_fastcall_patterns``): per function, the lowest offset of any
  8-byte ``r10`` store; for each helper or kfunc call, pairs ``*(u64 *)(r10 + off) = rX`` /
  ``rX = *(u64 *)(r10 + off)`` at the i-th instruction before and after the call, ``off`` the
  lowest offset plus 8 * (i - 1), rX a register the call does not clobber and not seen before;
- :func:`check_stack_contract` (``check_fastcall_stack_contract``): a stack access below the
  pattern area's top by an instruction outside a pattern (a load, store or atomic through any
  pointer to the function's frame, a helper's raw write, a dynptr or iterator slot) cancels the
  removal for the whole function;
- :func:`remove_spills_fills` (``remove_fastcall_spills_fills``): the new depth of each function
  where some call is inlined and no pattern surrounds a call that is not.

Which calls are fastcall is the target's fact: ``bpf_get_smp_processor_id`` (the only helper
with ``allow_fastcall``; the x86-64 verifier inlines it when the JIT is on, as bpfbuild
assumes) and the kfuncs flagged :attr:`~bpfbuild.abi.kfuncs.KF.FASTCALL`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bpfbuild.abi.kfuncs import KF, kfunc_allowed, kfunc_info
from bpfbuild.abi.protos import BpfFunc, RetType, func_proto, helper_allowed
from bpfbuild.errors import BpfBuildError
from bpfbuild.isa.fields import InsnClass, JmpOp, Mode, PseudoCall, Size
from bpfbuild.verifier.cfg import proto_nargs
from bpfbuild.verifier.kfunc_btf import btf_func

if TYPE_CHECKING:
    from bpfbuild.isa.instruction import Instruction
    from bpfbuild.verifier.env import Env

__all__ = ["Fastcall", "check_stack_contract", "mark_patterns", "remove_spills_fills"]

_STX_DW = int(InsnClass.STX | Mode.MEM | Size.DW)
_LDX_DW = int(InsnClass.LDX | Mode.MEM | Size.DW)
_CALL = int(InsnClass.JMP | JmpOp.CALL)
_R10 = 10
_CALLER_SAVED = 0x3F          # r0-r5
_S16_MIN = -(1 << 15)
_MAX_HELPER_ID = 211          # __BPF_FUNC_MAX_ID - 1 in Linux 6.18

#: helpers with ``allow_fastcall`` in their prototype (kernel/bpf/helpers.c)
_FASTCALL_HELPERS = frozenset({BpfFunc.get_smp_processor_id})
#: helpers the x86-64 verifier inlines (``verifier_inlines_helper_call``, JIT on); the x86 JIT
#: itself inlines none (``bpf_jit_inlines_helper_call`` is arm64's and riscv64's)
_INLINED_HELPERS = frozenset({BpfFunc.get_smp_processor_id})


@dataclass(slots=True)
class Fastcall:
    """``insn_aux_data[].fastcall_pattern`` / ``.fastcall_spills_num`` and the per-function
    ``fastcall_stack_off`` / ``keep_fastcall_stack`` of ``bpf_subprog_info``."""

    pattern: set[int] = field(default_factory=set)            # pcs of spills and fills in a pattern
    spills: dict[int, int] = field(default_factory=dict)      # call pc -> pairs removed around it
    stack_off: list[int] = field(default_factory=list)        # per function: where pattern slots start
    keep_stack: list[bool] = field(default_factory=list)      # a pattern surrounds a call not inlined


def _call_summary(env: Env, insn: Instruction) -> tuple[int, bool, bool] | None:
    """``get_call_summary``: (parameters, returns void, is fastcall) of a helper or kfunc call;
    None for anything else, or a call the verifier will refuse."""
    if insn.src == PseudoCall.HELPER:
        func_id = insn.imm
        if not 0 < func_id <= _MAX_HELPER_ID or helper_allowed(func_id, env.prog_type, sleepable=True,
                                                              target=env.kernel) is False:
            return None
        proto = func_proto(func_id, env.prog_type)
        if proto is None:
            from bpfbuild.abi.helpers import helper_signature
            from bpfbuild.verifier.cfg import unmodelled_helper_nargs

            sig = helper_signature(func_id)
            if sig is None:
                return None
            nparams, is_void = unmodelled_helper_nargs(env.prog_type, func_id), sig.ret_type.strip() == "void"
        else:
            nparams = proto_nargs(proto)
            is_void = proto.ret.base == RetType.RET_VOID
        return nparams, is_void, func_id in _FASTCALL_HELPERS and func_id in _INLINED_HELPERS
    if insn.src == PseudoCall.KFUNC:
        try:
            found = btf_func(env, insn)
        except BpfBuildError:
            return None
        if found is None:
            return None
        _btf, proto, name = found
        info = kfunc_info(name)
        if info is None or not kfunc_allowed(name, env.prog_type):
            return None
        return len(proto.params), proto.return_type == 0, bool(info.flags & KF.FASTCALL)  # type: ignore[attr-defined]
    return None


def _mark_call(env: Env, fc: Fastcall, subprog: int, pc: int, lowest_off: int) -> None:
    """``mark_fastcall_pattern_for_call``."""
    insns = env.insns
    if pc < 1 or pc + 1 >= len(insns):
        return
    stx, ldx = insns[pc - 1], insns[pc + 1]
    if (stx is None or ldx is None or stx.opcode != _STX_DW or ldx.opcode != _LDX_DW
            or stx.dst != _R10 or ldx.src != _R10 or stx.src != ldx.dst
            or stx.off != lowest_off or ldx.off != lowest_off):
        return   # no first pair around the call, whatever the call clobbers: no pattern
    summary = _call_summary(env, env.insns[pc])  # type: ignore[arg-type]
    if summary is None:
        return
    nparams, is_void, fastcall = summary
    # GENMASK(nparams, is_void ? 1 : 0): r0 unless void, r1..r<nparams>
    clobbered = ((1 << (nparams + 1)) - 1) & ~(1 if is_void else 0)
    expected = ~clobbered & _CALLER_SAVED
    i, off = 1, lowest_off
    while i <= 6:
        if pc - i < 0 or pc + i >= len(insns):
            break
        stx, ldx = insns[pc - i], insns[pc + i]
        if (stx is None or ldx is None or stx.opcode != _STX_DW or ldx.opcode != _LDX_DW
                or stx.dst != _R10 or ldx.src != _R10 or stx.src != ldx.dst
                or not (1 << stx.src) & expected or stx.off != off or ldx.off != off):
            break
        expected &= ~(1 << stx.src)
        fc.pattern.add(pc - i)
        fc.pattern.add(pc + i)
        i += 1
        off += 8
    if i == 1:
        return
    if fastcall:
        fc.spills[pc] = i - 1
    else:
        fc.keep_stack[subprog] = True
    fc.stack_off[subprog] = min(fc.stack_off[subprog], off)


def mark_patterns(env: Env) -> Fastcall:
    """``mark_fastcall_patterns``: the patterns of every function (once per verification)."""
    fc = env.fastcall
    if fc is not None:
        return fc   # type: ignore[return-value]
    fc = Fastcall(stack_off=[0] * len(env.subprogs), keep_stack=[False] * len(env.subprogs))
    env.fastcall = fc
    insns = env.insns
    stx_dw = _STX_DW
    call = _CALL
    r10 = _R10
    for s, sp in enumerate(env.subprogs):
        lowest = 0
        calls = []
        for pc in range(sp.start, sp.end):
            insn = insns[pc]
            if insn is None:
                continue
            code = insn.opcode
            if code == stx_dw:
                if insn.dst == r10 and insn.off < lowest:
                    lowest = insn.off
            elif code == call:
                calls.append(pc)
        for pc in calls:
            _mark_call(env, fc, s, pc, lowest)
    return fc


def check_stack_contract(env: Env, subprog: int, off: int) -> None:
    """``check_fastcall_stack_contract``: the current instruction accesses function ``subprog``'s
    stack from ``off`` up; below the pattern slots' top and outside a pattern, no pair of that
    function will be removed."""
    fc = mark_patterns(env)
    if fc.stack_off[subprog] <= off or env.insn_idx in fc.pattern:
        return
    fc.stack_off[subprog] = _S16_MIN
    sp = env.subprogs[subprog]
    end = sp.end
    fc.pattern.difference_update(range(sp.start, end))
    for pc in [pc for pc in fc.spills if sp.start <= pc < end]:
        del fc.spills[pc]


def remove_spills_fills(env: Env) -> None:
    """``remove_fastcall_spills_fills`` after a successful verification: a function where some
    pairs go and every pattern surrounds an inlined call needs only the stack above them."""
    fc = mark_patterns(env)
    for pc, pairs in fc.spills.items():   # insn_aux_data[].fastcall_spills_num, for verifier.fixups
        env.aux[pc].fastcall_spills = pairs
    for s, sp in enumerate(env.subprogs):
        end = sp.end
        modified = any(sp.start <= pc < end for pc in fc.spills)
        if modified and not fc.keep_stack[s]:
            sp.stack_depth = -fc.stack_off[s]

