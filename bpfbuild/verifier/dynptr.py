"""Dynamic pointers (``struct bpf_dynptr``) as the Linux 6.18 verifier tracks them.

A dynptr lives in two stack slots (16 bytes, ``BPF_DYNPTR_NR_SLOTS``) marked ``STACK_DYNPTR``;
the spilled-register records of the two slots carry its type (local memory, ring buffer, skb,
xdp), which slot is the first, an id naming the dynptr (its slices point back to it with
``dynptr_id``) and, for a ring-buffer dynptr, the reference it holds (``ref_obj_id``), which
``bpf_ringbuf_submit_dynptr``/``bpf_ringbuf_discard_dynptr`` release.

The steps follow kernel/bpf/verifier.c: ``dynptr_get_spi`` (a constant, slot-aligned stack
offset), ``process_dynptr_func`` (an argument that creates a dynptr must point at 16 bytes of
stack holding no referenced dynptr; one that uses it must point at an initialized dynptr of the
expected type), ``mark_stack_slots_dynptr`` / ``unmark_stack_slots_dynptr`` and
``destroy_if_dynptr_stack_slot`` (a store into a dynptr's slots destroys an unreferenced dynptr
and its slices, and is refused for a referenced one).  Helpers (:mod:`.calls`) and kfuncs
(:mod:`.kfuncs`) both call in here.
"""

from __future__ import annotations

from bpfbuild.verifier.env import Env
from bpfbuild.verifier.state import DYNPTR_TYPE_NAMES, FuncState, Reg, RegFlag, RegType, SlotType, VerifierState

__all__ = [
    "LOCAL",
    "RINGBUF",
    "SKB",
    "SKB_META",
    "XDP",
    "check_init",
    "check_uninit",
    "clear",
    "refcounted",
    "destroy_if_dynptr_stack_slot",
    "dynptr_info",
    "get_spi",
    "invalidate_slices",
    "mark_read",
    "stack_slot_obj_spi",
    "type_str",
    "unacquired",
]

# enum bpf_dynptr_type (0 is BPF_DYNPTR_TYPE_INVALID)
LOCAL, RINGBUF, SKB, XDP, SKB_META = 1, 2, 3, 4, 5
NR_SLOTS = 2
_DYNPTR = SlotType.STACK_DYNPTR
_ERANGE = -2
_T = RegType
_F = RegFlag


def type_str(dtype: int) -> str:
    """``dynptr_type_str``."""
    return DYNPTR_TYPE_NAMES.get(dtype, "<invalid>")


def refcounted(dtype: int) -> bool:
    """``dynptr_type_refcounted``: only a ring-buffer record must be released."""
    return dtype == RINGBUF


def _s64(x: int) -> int:
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >> 63 else x


def stack_slot_obj_spi(env: Env, reg: Reg, frame: FuncState, kind: str, nr_slots: int, then: str | None) -> int:
    """``stack_slot_obj_get_spi``: the first (higher) slot of a ``kind`` object (dynptr, iter)
    of ``nr_slots`` slots at a constant, slot-aligned stack offset.  A bad offset is the
    kernel's line and then the caller's ``then`` (None: the caller stops at the offset's own
    line); -2 when the slots lie beyond the allocated stack (``-ERANGE``, no message)."""
    tail = f"\n{then}" if then else ""
    if reg.var_off.mask:
        raise env.error(f"{kind} has to be at a constant offset{tail}")
    off = reg.off + _s64(reg.var_off.value)
    spi = (-off - 1) // 8
    if off % 8 or spi + 1 < nr_slots:
        raise env.error(f"cannot pass in {kind} at an offset={off}{tail}")
    if spi >= len(frame.stack):
        return _ERANGE
    return spi


def get_spi(env: Env, st: VerifierState, reg: Reg, then: str | None) -> int:
    """``dynptr_get_spi``: the dynptr's first slot (see :func:`stack_slot_obj_spi`)."""
    return stack_slot_obj_spi(env, reg, st.frames[reg.frameno], "dynptr", NR_SLOTS, then)


def dynptr_info(st: VerifierState, reg: Reg) -> tuple[int, int, int]:
    """(type, id, ref_obj_id) of the initialized dynptr ``reg`` points to (``dynptr_get_type``,
    ``dynptr_id``, ``dynptr_ref_obj_id``)."""
    if reg.type == _T.CONST_PTR_TO_DYNPTR:
        return reg.dynptr_type, reg.id, reg.ref_obj_id
    off = reg.off + _s64(reg.var_off.value)
    sp = st.frames[reg.frameno].stack[(-off - 1) // 8].spilled_ptr
    return sp.dynptr_type, sp.id, sp.ref_obj_id


def check_uninit(env: Env, st: VerifierState, reg: Reg) -> None:
    """``is_dynptr_reg_valid_uninit``: memory where a new dynptr may be built."""
    msg = "Dynptr has to be an uninitialized dynptr"
    if reg.type == _T.CONST_PTR_TO_DYNPTR:
        raise env.error(msg)
    get_spi(env, st, reg, msg)


def check_init(env: Env, st: VerifierState, reg: Reg, argno: int, want: int, mutates: bool) -> None:
    """``process_dynptr_func`` for an argument that uses an initialized dynptr: ``want`` is the
    type the argument asks for (0: any); ``mutates``: the function changes the dynptr."""
    if reg.type == _T.CONST_PTR_TO_DYNPTR:
        if mutates:
            raise env.error("cannot pass pointer to const bpf_dynptr, the helper mutates it")
        if want and reg.dynptr_type != want:
            raise env.error(f"Expected a dynptr of type {type_str(want)} as arg #{argno}")
        return
    init = f"Expected an initialized dynptr as arg #{argno}"
    spi = get_spi(env, st, reg, init)
    frame = st.frames[reg.frameno]
    if spi < 0 or not frame.stack[spi].spilled_ptr.dynptr_first \
            or any(t != _DYNPTR for t in frame.stack[spi].slot_type) \
            or any(t != _DYNPTR for t in frame.stack[spi - 1].slot_type):
        raise env.error(init)
    if want and frame.stack[spi].spilled_ptr.dynptr_type != want:
        raise env.error(f"Expected a dynptr of type {type_str(want)} as arg #{argno}")


def mark_read(env: Env, st: VerifierState, reg: Reg) -> None:
    """``mark_dynptr_read``: the dynptr's two slots are read here."""
    if reg.type == _T.CONST_PTR_TO_DYNPTR:
        return
    spi = get_spi(env, st, reg, None)
    live = env.stack_live
    assert live is not None
    live.mark_read(st, reg.frameno, env.insn_idx, 3 << (spi - 1))
    env.scratched_slots.update((spi, spi - 1))


def unacquired(env: Env, st: VerifierState, reg: Reg, regno: int) -> None:
    """The release check of ``check_func_arg``: only a dynptr on the stack holding a reference
    can be released."""
    if reg.type != _T.PTR_TO_STACK:
        raise env.error("cannot release unowned const bpf_dynptr")
    msg = f"arg {regno} is an unacquired reference"
    spi = get_spi(env, st, reg, msg)
    if spi < 0 or not st.frames[reg.frameno].stack[spi].spilled_ptr.ref_obj_id:
        raise env.error(msg)


def destroy_if_dynptr_stack_slot(env: Env, st: VerifierState, frame: FuncState, spi: int) -> None:
    """A store touches slot ``spi``: an unreferenced dynptr there is destroyed (with its slices);
    a referenced one cannot be overwritten."""
    if spi >= len(frame.stack) or frame.stack[spi].slot_type[0] != _DYNPTR:
        return
    if not frame.stack[spi].spilled_ptr.dynptr_first:
        spi += 1
    first = frame.stack[spi].spilled_ptr
    if refcounted(first.dynptr_type):
        raise env.error("cannot overwrite referenced dynptr")
    env.scratched_slots.update((spi, spi - 1))
    invalidate_slices(env, st, first.id)
    clear(env, frame, spi)


def invalidate_slices(env: Env, st: VerifierState, dynptr_id: int) -> None:
    """Slices of the dynptr ``dynptr_id`` become invalid: those of exactly PTR_TO_MEM (maybe
    NULL), as the kernel compares (bpf_dynptr_data's; a kfunc's slice carries its dynptr type
    flag and is left alone)."""
    for reg in st.all_regs():
        if reg.type in (_T.PTR_TO_MEM, _T.PTR_TO_MEM | _F.PTR_MAYBE_NULL) and reg.dynptr_id == dynptr_id:
            if env.allow_ptr_leaks:   # mark_reg_invalid
                reg.mark_unknown()
            else:
                reg.mark_not_init()


def clear(env: Env, frame: FuncState, spi: int) -> None:
    live = env.stack_live
    for k in (spi, spi - 1):
        slot = frame.wslot(k)
        for j in range(8):
            slot.slot_type[j] = SlotType.STACK_INVALID
        slot.spilled_ptr.mark_not_init()
        if live is not None:
            live.mark_write(frame.frameno, 1 << k)
