"""IRQ flags: ``bpf_local_irq_save``/``bpf_local_irq_restore`` and the resilient locks'
``bpf_res_spin_lock_irqsave``/``bpf_res_spin_unlock_irqrestore``, as Linux 6.18 checks them.

Facts followed (kernel/bpf/verifier.c: ``process_irq_flag``, ``mark_stack_slot_irq_flag``,
``unmark_stack_slot_irq_flag``, ``acquire_irq_state``, ``release_irq_state``,
``check_resource_leak``, ``check_helper_call``, ``check_kfunc_call``, ``check_func_call``):

* the flag argument (``flags__irq_flag``, KF_ARG_PTR_TO_IRQ_FLAG) must point to the stack
  ("arg#0 doesn't point to an irq flag on stack"), at a constant, 8-aligned offset;
* saving needs a slot that is not already an IRQ flag ("expected uninitialized irq flag as
  arg#N"); the 8 bytes are written, become STACK_IRQ_FLAG and hold a new REF_TYPE_IRQ reference
  (the state's ``active_irq_id``), and remember which family saved them (native or lock);
* restoring needs an intact flag slot ("expected an initialized irq flag as arg#N") saved by
  the same family ("irq flag acquired by native kfuncs cannot be restored with lock kfuncs"), and
  flags are restored last saved, first restored ("cannot restore irq state out of order, expected
  id=N acquired at insn_idx=M"); the slot is STACK_INVALID again;
* while IRQs are disabled: no sleepable helper ("sleepable helper X#N in IRQ-disabled region") or
  kfunc ("kernel func X is sleepable within IRQ-disabled region"), no global function that may
  sleep, and no exit of the main program, tail call or LD_ABS ("... cannot be used inside
  bpf_local_irq_save-ed region", after the reference-leak check).

The references live in :attr:`VerifierState.irqs` (oldest first), apart from the pointer
references of ``st.refs``: the kernel's refs array holds both, but an IRQ reference is never a
leaked pointer and only IRQ references take part in the restore order.
"""

from __future__ import annotations

from dataclasses import dataclass

from bpfbuild.verifier import dynptr, transfer
from bpfbuild.verifier.checks import Access, check_mem_access
from bpfbuild.verifier.env import Env
from bpfbuild.verifier.state import RegType, SlotType, VerifierState

__all__ = ["IRQ_KFUNCS", "IrqRef", "active_irq_id", "exit_error", "process_irq_flag", "subprog_might_sleep"]

#: ``irq.kfunc_class`` of a flag slot (kept in its spilled register's ``iter_state``, the union's
#: other member)
IRQ_NATIVE_KFUNC, IRQ_LOCK_KFUNC = 1, 2
_SAVE = {"bpf_local_irq_save": IRQ_NATIVE_KFUNC, "bpf_res_spin_lock_irqsave": IRQ_LOCK_KFUNC}
_RESTORE = {"bpf_local_irq_restore": IRQ_NATIVE_KFUNC, "bpf_res_spin_unlock_irqrestore": IRQ_LOCK_KFUNC}
IRQ_KFUNCS = frozenset({*_SAVE, *_RESTORE})
_IRQ = SlotType.STACK_IRQ_FLAG


@dataclass(frozen=True, slots=True)
class IrqRef:
    """A REF_TYPE_IRQ reference: its id and the instruction that saved the flag."""

    id: int
    insn_idx: int


def active_irq_id(st: VerifierState) -> int:
    """``active_irq_id``: the last saved flag's reference (0: IRQs are enabled)."""
    return st.irqs[-1].id if st.irqs else 0


def exit_error(env: Env, st: VerifierState, prefix: str) -> None:
    """The IRQ part of ``check_resource_leak`` (with ``check_lock``)."""
    if st.irqs:
        raise env.error(f"{prefix} cannot be used inside bpf_local_irq_save-ed region")


def process_irq_flag(env: Env, st: VerifierState, name: str, regno: int) -> None:
    """``KF_ARG_PTR_TO_IRQ_FLAG``: save or restore the flag R[regno] points to."""
    reg = st.frames[-1].regs[regno]
    i = regno - 1
    if reg.type != RegType.PTR_TO_STACK:
        raise env.error(f"arg#{i} doesn't point to an irq flag on stack")
    frame = st.frames[reg.frameno]
    live = env.stack_live
    assert live is not None
    if name in _SAVE:
        then = f"expected uninitialized irq flag as arg#{i}"
        spi = dynptr.stack_slot_obj_spi(env, reg, frame, "irq_flag", 1, then)
        if spi >= 0 and _IRQ in frame.stack[spi].slot_type:
            raise env.error(then)
        from bpfbuild.verifier.insns import grow_stack

        check_mem_access(env, st, regno, 0, 8, Access.WRITE, -1)
        grow_stack(env, st, reg, reg.off, 8)
        transfer.stack_write(env, st, frame, reg, reg.off, 8, None, None)
        spi = dynptr.stack_slot_obj_spi(env, reg, frame, "irq_flag", 1, then)
        rid = env.new_id()
        st.irqs = (*st.irqs, IrqRef(rid, env.insn_idx))
        slot = frame.wslot(spi)
        sp = slot.spilled_ptr
        live.mark_write(frame.frameno, 1 << spi)
        sp.mark_known_zero()
        sp.type = RegType.PTR_TO_STACK
        sp.ref_obj_id = rid
        sp.iter_state = _SAVE[name]
        for j in range(8):
            slot.slot_type[j] = _IRQ
        env.scratched_slots.add(spi)
        return
    kfunc_class = _RESTORE[name]
    then = f"expected an initialized irq flag as arg#{i}"
    spi = dynptr.stack_slot_obj_spi(env, reg, frame, "irq_flag", 1, then)
    slot = frame.stack[spi] if spi >= 0 else None
    if slot is None or not slot.spilled_ptr.ref_obj_id or any(t != _IRQ for t in slot.slot_type):
        raise env.error(then)
    live.mark_read(st, frame.frameno, env.insn_idx, 1 << spi)
    env.scratched_slots.add(spi)
    sp = slot.spilled_ptr
    if sp.iter_state != kfunc_class:
        have = "native" if sp.iter_state == IRQ_NATIVE_KFUNC else "lock"
        used = "native" if kfunc_class == IRQ_NATIVE_KFUNC else "lock"
        raise env.error(f"irq flag acquired by {have} kfuncs cannot be restored with {used} kfuncs")
    active = active_irq_id(st)
    if sp.ref_obj_id != active:
        at = next((r.insn_idx for r in st.irqs if r.id == active), 0)
        raise env.error(f"cannot restore irq state out of order, expected id={active} acquired at insn_idx={at}")
    st.irqs = st.irqs[:-1]
    slot = frame.wslot(spi)     # a slot shared with a copied state is copied before the write
    sp = slot.spilled_ptr
    sp.mark_not_init()
    live.mark_write(frame.frameno, 1 << spi)
    for j in range(8):
        slot.slot_type[j] = SlotType.STACK_INVALID


def subprog_might_sleep(env: Env, subprog: int) -> bool:
    """``subprog_info[].might_sleep``: the function, or one it calls (a callback included),
    calls a sleepable helper or kfunc somewhere in its code (``mark_subprog_might_sleep`` and
    ``merge_callee_effects`` of check_cfg), whether or not that call is reachable."""
    memo = env.graph_cache
    key = ("might_sleep", subprog)
    if key in memo:
        return bool(memo[key])
    memo[key] = False          # recursion is refused elsewhere; a cycle must not loop here
    from bpfbuild.abi.kfuncs import KF, kfunc_allowed, kfunc_info
    from bpfbuild.abi.protos import func_proto, helper_allowed
    from bpfbuild.verifier.kfunc_btf import btf_func

    sp = env.subprogs[subprog]
    found = False
    for pc in range(sp.start, sp.end):
        insn = env.insns[pc]
        if insn is None:
            continue
        if insn.opcode == 0x85:   # call
            if insn.src == 0:
                proto = func_proto(insn.imm, env.prog_type)   # get_helper_proto: offered to this type
                found = (proto is not None and proto.might_sleep
                         and helper_allowed(insn.imm, env.prog_type, sleepable=True, target=env.kernel) is not False)
            elif insn.src == 2:
                f = btf_func(env, insn)
                info = kfunc_info(f[2]) if f is not None else None
                found = (info is not None and bool(info.flags & KF.SLEEPABLE)
                         and kfunc_allowed(info.name, env.prog_type) is not False)
            elif insn.src == 1:
                callee = env.find_subprog(pc + insn.imm + 1)
                found = callee >= 0 and subprog_might_sleep(env, callee)
        elif insn.opcode == 0x18 and insn.src == 4:   # ld_imm64 of a callback
            callee = env.find_subprog(pc + insn.imm + 1)
            found = callee >= 0 and subprog_might_sleep(env, callee)
        if found:
            break
    memo[key] = found
    return found
