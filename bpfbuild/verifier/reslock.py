"""``bpf_res_spin_lock``: resilient spin locks, taken and released by kfuncs (Linux 6.14+).

A ``struct bpf_res_spin_lock`` lives in a map value or in an object of the program's own struct
(``bpf_obj_new``), like a ``bpf_spin_lock``, and guards the same things (a list head or rbtree
root beside it).  Linux 6.18's rules (kernel/bpf/verifier.c: ``check_kfunc_call``,
``process_spin_lock`` with ``PROCESS_RES_LOCK``, kernel/bpf/rqspinlock.c), as modelled here:

- ``bpf_res_spin_lock(lock)`` may fail (deadlock or timeout, found at run time): the verifier
  queues a path after the call where the lock is not held, r0 in [-MAX_ERRNO, -1] and r1-r5
  unreadable, and goes on with r0 = 0 and the lock held;
- several resilient locks may be held at once (also under a ``bpf_spin_lock``), but not the same
  one twice ("AA deadlock detected"), and they are released in the reverse order of taking;
- the lock argument is a map value or allocated object pointer at a constant offset, the offset
  of the struct's ``bpf_res_spin_lock``;
- unlocking turns the non-owning references into scalars, as ``bpf_spin_unlock`` does.

The ``_irqsave``/``_irqrestore`` variants hold their lock as a REF_TYPE_RES_LOCK_IRQ (a plain
``bpf_res_spin_unlock`` does not release it, nor the reverse) and also save or restore an IRQ
flag on the stack (:mod:`bpfbuild.verifier.irq`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpfbuild.verifier import fields
from bpfbuild.verifier.bounds import reg_bounds_sync
from bpfbuild.verifier.fields import FieldKind, record_of
from bpfbuild.verifier.state import RegFlag, RegType

if TYPE_CHECKING:
    from bpfbuild.verifier.env import Env
    from bpfbuild.verifier.state import Reg, VerifierState

__all__ = ["LOCK_KFUNCS", "fork_failed_lock", "process_res_lock_arg"]

#: the kfuncs that take a resilient lock (and may fail)
LOCK_KFUNCS = frozenset({"bpf_res_spin_lock", "bpf_res_spin_lock_irqsave"})
_MAX_ERRNO = 4095


def fork_failed_lock(env: Env, st: VerifierState) -> None:
    """``check_kfunc_call`` before the arguments: the path where taking the lock failed."""
    assert env.fork is not None
    queued = env.fork(env.insn_idx + 1, env.insn_idx)
    regs = queued.frames[-1].regs
    for i in range(6):
        regs[i].mark_not_init()
    r0 = regs[0]
    r0.mark_unknown()
    # __mark_reg_s32_range(-MAX_ERRNO, -1): the running 6.18 kernel's log shows the 64-bit
    # bounds left to what the 32-bit ones imply (upper half unknown)
    r0.s32_min = max(r0.s32_min, -_MAX_ERRNO)
    r0.s32_max = min(r0.s32_max, -1)
    reg_bounds_sync(r0)


def process_res_lock_arg(env: Env, st: VerifierState, name: str, reg: Reg, regno: int, i: int) -> None:
    """The ``KF_ARG_PTR_TO_RES_SPIN_LOCK`` argument of the four ``bpf_res_spin_*`` kfuncs."""
    from bpfbuild.verifier import graph

    if reg.type not in (RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_BTF_ID | RegFlag.MEM_ALLOC):
        raise env.error(f"arg#{i} doesn't point to map value or allocated object")
    if reg.var_off.mask:
        raise env.error(f"R{regno} doesn't have constant offset. bpf_res_spin_lock has to be at the constant offset")
    m = reg.map if reg.type == RegType.PTR_TO_MAP_VALUE else None
    if m is not None:
        if not m.has_btf:
            raise env.error(f"map '{m.name}' has to have BTF in order to use bpf_res_spin_lock")
        rec = record_of(m)
    else:
        rec = graph.reg_btf_record(env, reg)
    if rec is None or not rec.has(FieldKind.RES_SPIN_LOCK):
        where = f"map '{m.name}'" if m is not None else "local 'kptr'"
        raise env.error(f"{where} has no valid bpf_res_spin_lock")
    lock_off = rec.offset_of(FieldKind.RES_SPIN_LOCK)
    off = reg.var_off.value + reg.off
    if lock_off != off:
        raise env.error(f"off {off} doesn't point to 'struct bpf_res_spin_lock' that is at {lock_off}")
    is_lock = name in LOCK_KFUNCS
    ptr = graph.lock_ptr(reg)
    assert ptr is not None
    kind = fields.RES_LOCK_IRQ if name.endswith(("_irqsave", "_irqrestore")) else fields.RES_LOCK
    fields.lock_state(env, st, reg.id, ptr, is_lock, kind)
    if not is_lock:
        graph.invalidate_non_owning_refs(env, st)
