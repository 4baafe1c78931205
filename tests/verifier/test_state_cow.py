"""Stack slots of copied frames are shared until written (FuncState.wslot): a write through one
state never shows in another."""

from bpfbuild.verifier.state import SPILL, FuncState, RegType, VerifierState


def _state() -> VerifierState:
    st = VerifierState()
    f = FuncState(0, -1, 0)
    f.grow_stack(32)
    slot = f.wslot(1)
    slot.spilled_ptr.mark_const(7)
    slot.slot_type[:] = bytes([SPILL]) * 8
    st.frames.append(f)
    return st


def test_copy_shares_then_write_unshares_both_ways():
    a = _state()
    b = a.copy()
    assert a.frames[0].stack[1] is b.frames[0].stack[1]
    b.frames[0].wslot(1).spilled_ptr.mark_const(9)
    assert a.frames[0].stack[1].spilled_ptr.var_off.value == 7
    assert b.frames[0].stack[1].spilled_ptr.var_off.value == 9
    # the original does not own the shared slots either
    c = a.copy()
    a.frames[0].wslot(1).slot_type[0] = 2
    assert c.frames[0].stack[1].slot_type[0] == SPILL
    assert b.frames[0].stack[1].slot_type[0] == SPILL


def test_owned_slot_is_written_in_place():
    a = _state()
    s = a.frames[0].wslot(2)
    assert a.frames[0].wslot(2) is s


def test_all_regs_unshares_only_what_the_caller_picks():
    a = _state()
    b = a.copy()
    regs = b.all_regs(lambda r: r.type == RegType.PTR_TO_PACKET)
    assert len(regs) == 11 and b.frames[0].stack[1] is a.frames[0].stack[1]
    for reg in b.all_regs(lambda r: r.type == RegType.SCALAR_VALUE):
        if reg.type == RegType.SCALAR_VALUE:
            reg.mark_unknown()
    assert a.frames[0].stack[1].spilled_ptr.var_off.value == 7
    assert b.frames[0].stack[1].spilled_ptr.var_off.mask


def test_cleared_slot_is_copied_before_a_write():
    a = _state()
    f = a.frames[0]
    f.clear_slot(1)
    empty = f.stack[1]
    g = _state().frames[0]
    g.clear_slot(0)
    assert g.stack[0] is empty
    f.wslot(1).slot_type[7] = SPILL
    assert empty.slot_type == bytearray(8) and empty.spilled_ptr.type == RegType.NOT_INIT
