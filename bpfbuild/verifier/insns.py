"""One handler per instruction kind: first its preconditions (:mod:`.checks`), then its effect
on the state (:mod:`.transfer`), in the order of the kernel's ``check_alu_op``,
``check_load_mem``, ``check_store_reg``, ``check_atomic``, ``check_ld_imm``, ``check_ld_abs``
and ``check_cond_jmp_op``.  Calls and exits are in :mod:`.calls`.
"""

from __future__ import annotations

from bpfbuild.isa.fields import (
    CLASS_MASK,
    MODE_MASK,
    OP_MASK,
    SIZE_MASK,
    SOURCE_MASK,
    AluOp,
    InsnClass,
    JmpOp,
    Mode,
    PseudoLoad,
    Size,
)
from bpfbuild.isa.instruction import Instruction
from bpfbuild.verifier import bounds, btfid, fastalu, fastcall, precision, transfer
from bpfbuild.verifier.bounds import s64
from bpfbuild.verifier.checks import (
    Access,
    check_mem_access,
    check_ptr_off_reg,
    check_reg_read,
    check_reg_sane_offset,
    check_reg_write,
    is_pointer_value,
)
from bpfbuild.verifier.disasm import _ALU as ALU_STRING
from bpfbuild.verifier.env import BPF_MAX_VAR_OFF, MAX_BPF_STACK, Env
from bpfbuild.verifier.fastenum import members
from bpfbuild.verifier.fields import lock_exit_error
from bpfbuild.verifier.ksym import mark_btf_var
from bpfbuild.verifier.state import BASE_MASK, Reg, RegFlag, RegType, VerifierState, reg_type_str
from bpfbuild.verifier.tnum import U32_MAX, U64_MAX, tnum_str
from bpfbuild.verifier.transfer import BPF_ADD_CONST, BPF_ADD_CONST32, BPF_ADD_CONST64

#: bytes accessed per size field of a load or store (``insn.access_size`` without the enum call)
_NBYTES = {int(m): m.nbytes for m in Size}

# plain-class views of the enums read per instruction (see .fastenum)
AluOp, InsnClass, JmpOp, Mode, PseudoLoad, RegFlag, RegType, Size = (
    members(AluOp),
    members(InsnClass),
    members(JmpOp),
    members(Mode),
    members(PseudoLoad),
    members(RegFlag),
    members(RegType),
    members(Size),
)

__all__ = [
    "do_alu",
    "do_atomic",
    "do_cond_jmp",
    "do_ld_abs",
    "do_ld_imm64",
    "do_ldx",
    "do_st",
    "do_stx",
    "grow_stack",
]

_ARITH_OK = frozenset({
    RegType.PTR_TO_CTX, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MAP_KEY, RegType.PTR_TO_STACK,
    RegType.PTR_TO_PACKET_META, RegType.PTR_TO_PACKET, RegType.PTR_TO_TP_BUFFER, RegType.PTR_TO_BTF_ID,
    RegType.PTR_TO_MEM, RegType.PTR_TO_BUF, RegType.PTR_TO_FUNC, RegType.CONST_PTR_TO_DYNPTR,
})


# plain ints for the ALU handlers' tests (an int compares faster than an enum member)
_ADD, _SUB = int(AluOp.ADD), int(AluOp.SUB)
_BINARY = frozenset(int(o) for o in (AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.OR, AluOp.AND,
                                     AluOp.LSH, AluOp.RSH, AluOp.MOD, AluOp.XOR, AluOp.ARSH))
_DIVMOD = frozenset({int(AluOp.DIV), int(AluOp.MOD)})
_SHIFTS = frozenset({int(AluOp.LSH), int(AluOp.RSH), int(AluOp.ARSH)})
_AND_OR = frozenset({int(AluOp.AND), int(AluOp.OR)})
_ALU64 = int(InsnClass.ALU64)
_NOT_INIT, _SCALAR, _ARENA = int(RegType.NOT_INIT), int(RegType.SCALAR_VALUE), int(RegType.PTR_TO_ARENA)
_B31 = 1 << 31
_B32 = 1 << 32
_B64 = 1 << 64
_MAYBE_NULL, _STACK = int(RegFlag.PTR_MAYBE_NULL), int(RegType.PTR_TO_STACK)
#: Reg.is_pkt_pointer_any, as a set of the types
_PKT_ANY = frozenset(int(t) for t in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META,
                                      RegType.PTR_TO_PACKET_END))


def grow_stack(env: Env, st: VerifierState, reg: Reg, off: int, size: int) -> None:
    """``grow_stack_state`` after an access through a stack pointer (and the function's depth)."""
    v, m = reg.var_off
    min_off = reg.smin + off if m else (v - _B64 if v >> 63 else v) + off
    frame = st.frames[reg.frameno]
    fastcall.check_stack_contract(env, frame.subprogno, min_off)
    need = -min_off
    if need > 0:
        frame.grow_stack(need)
        sp = env.subprogs[frame.subprogno]
        sp.stack_depth = max(sp.stack_depth, (need + 7) // 8 * 8)


def _fake_const(imm: int) -> Reg:
    r = Reg()                       # a fresh register: no pointer fields, not precise
    bounds.mark_known(r, imm)
    r.type = RegType.SCALAR_VALUE
    return r


# ---- ALU ------------------------------------------------------------------------------------------------

def do_alu(env: Env, st: VerifierState, insn: Instruction) -> None:
    code = insn.opcode
    op = code & OP_MASK
    if op in _BINARY:
        _do_binary(env, st, insn, op, code & CLASS_MASK == _ALU64, bool(code & SOURCE_MASK))
        return
    regs = st.frames[-1].regs
    alu64 = code & CLASS_MASK == InsnClass.ALU64
    is_x = bool(code & SOURCE_MASK)
    if op in (AluOp.END, AluOp.NEG):
        if op == AluOp.NEG:
            if is_x or insn.src or insn.off or insn.imm:
                raise env.error("BPF_NEG uses reserved fields")
        elif insn.src or insn.off or insn.imm not in (16, 32, 64) or (alu64 and is_x):
            raise env.error("BPF_END uses reserved fields")
        dst = check_reg_read(env, st, insn.dst)
        if is_pointer_value(env, dst):
            raise env.error(f"R{insn.dst} pointer arithmetic prohibited")
        check_reg_write(env, insn.dst)
        if dst.type == RegType.SCALAR_VALUE:
            if op == AluOp.NEG:
                bounds.negate(dst, not alu64)
                dst.id = 0
                dst.off = 0
            else:
                swap = alu64 or is_x
                bounds.scalar_byte_swap(dst, insn.imm, swap)
                if swap or insn.imm != 64:   # le64 on a little-endian machine changes nothing
                    dst.id = 0
                    dst.off = 0
        else:
            dst.mark_unknown()
        _sanity(dst)
        return
    if op == AluOp.MOV:
        if _do_mov(env, st, insn, regs, alu64, is_x):
            _sanity(regs[insn.dst])
        return
    raise env.error(f"invalid BPF_ALU opcode {op:x}")


def _do_binary(env: Env, st: VerifierState, insn: Instruction, op: int, alu64: bool, is_x: bool) -> None:
    """The two-operand operations: ADD SUB MUL DIV OR AND LSH RSH MOD XOR ARSH."""
    regs = st.frames[-1].regs
    off = insn.off
    if is_x:
        if insn.imm or (off and (off != 1 or op not in _DIVMOD)):
            raise env.error("BPF_ALU uses reserved fields")
        regno = insn.src                    # check_reg_read, inlined (as for dst below)
        if regno > 10:
            raise env.error(f"R{regno} is invalid")
        if regs[regno].type == _NOT_INIT:
            raise env.error(f"R{regno} !read_ok")
    elif insn.src or (off and (off != 1 or op not in _DIVMOD)):
        raise env.error("BPF_ALU uses reserved fields")
    regno = insn.dst
    if regno > 10:
        raise env.error(f"R{regno} is invalid")
    dst = regs[regno]
    if dst.type == _NOT_INIT:
        raise env.error(f"R{regno} !read_ok")
    if not is_x:
        imm = insn.imm
        if imm == 0 and op in _DIVMOD:
            raise env.error("div by zero")
        if op in _SHIFTS and not 0 <= imm < (64 if alu64 else 32):
            raise env.error(f"invalid shift {imm}")
    if regno == 10:                         # check_reg_write (regno <= 10 here)
        raise env.error("frame pointer is read only")
    if _adjust_reg_min_max_vals(env, st, insn, op, alu64, is_x, regs, dst):
        _sanity(regs[regno])


def _sanity(reg: Reg) -> None:
    """``reg_bounds_sanity_check``: contradictory bounds are reset (the kernel logs a warning)."""
    if reg.type == _SCALAR and not bounds.bounds_sane(reg):
        bounds.mark_unbounded(reg)


def _do_mov(env: Env, st: VerifierState, insn: Instruction, regs: list[Reg], alu64: bool, is_x: bool) -> bool:
    """BPF_MOV; True when the result needs the sanity check (a known constant does not)."""
    if is_x:
        if not alu64:
            if insn.off not in (0, 8, 16) or insn.imm:
                raise env.error("BPF_MOV uses reserved fields")
        elif insn.off == 1:
            if insn.imm not in (1, 1 << 16):
                raise env.error("addr_space_cast insn can only convert between address space 1 and 0")
            raise env.error("addr_space_cast insn can only be used in a program that has an associated arena")
        elif insn.off not in (0, 8, 16, 32) or insn.imm:
            raise env.error("BPF_MOV uses reserved fields")
        regno = insn.src                    # check_reg_read, inlined
        if regno > 10:
            raise env.error(f"R{regno} is invalid")
        if regs[regno].type == _NOT_INIT:
            raise env.error(f"R{regno} !read_ok")
    elif insn.src != 0 or insn.off != 0:
        raise env.error("BPF_MOV uses reserved fields")
    regno = insn.dst                        # check_reg_write, inlined
    if regno >= 10:
        raise env.error(f"R{regno} is invalid" if regno > 10 else "frame pointer is read only")
    dst = regs[regno]
    if not is_x:
        dst.mark_const(insn.imm if alu64 else insn.imm & U32_MAX)   # sets every field mark_unknown would
        return False
    src = regs[insn.src]
    if alu64:
        if insn.off == 0:
            transfer.assign_scalar_id_before_mov(env, src)
            dst.assign(src)
            return True
        if is_pointer_value(env, src):
            raise env.error(f"R{insn.src} sign-extension part of pointer")
        if src.type == RegType.SCALAR_VALUE:
            no_sext = src.umax < (1 << (insn.off - 1))
            if no_sext:
                transfer.assign_scalar_id_before_mov(env, src)
            dst.assign(src)
            if not no_sext:
                dst.id = 0
            bounds.coerce_reg_to_size_sx(dst, insn.off >> 3)
        else:
            dst.mark_unknown()
        return True
    if is_pointer_value(env, src):
        raise env.error(f"R{insn.src} partial copy of pointer")
    if src.type == RegType.SCALAR_VALUE:
        if insn.off == 0:
            is_u32 = src.umax.bit_length() <= 32
            if is_u32:
                transfer.assign_scalar_id_before_mov(env, src)
            dst.assign(src)
            if not is_u32:
                dst.id = 0
        else:
            no_sext = src.umax < (1 << (insn.off - 1))
            if no_sext:
                transfer.assign_scalar_id_before_mov(env, src)
            dst.assign(src)
            if not no_sext:
                dst.id = 0
            bounds.coerce_subreg_to_size_sx(dst, insn.off >> 3)
    else:
        dst.mark_unknown()
    bounds.zext_32_to_64(dst)
    bounds.reg_bounds_sync(dst)
    return True


def _adjust_reg_min_max_vals(env: Env, st: VerifierState, insn: Instruction, op: int, alu64: bool,
                             is_x: bool, regs: list[Reg], dst: Reg) -> bool:
    """``adjust_reg_min_max_vals``; True when the result needs the sanity check."""
    dtype = dst.type
    if dtype == _ARENA:
        return True
    if is_x:
        src = regs[insn.src]
        if src.type != _SCALAR:
            if dtype != _SCALAR:
                if op == AluOp.SUB and env.allow_ptr_leaks:
                    dst.mark_unknown()
                    return True
                raise env.error(f"R{insn.dst} pointer {ALU_STRING[op]} pointer prohibited")
            precision.mark_chain_precision(env, st, insn.dst)
            _adjust_ptr(env, st, insn, op, alu64, ptr=src, off=dst, off_is_dst=True)
            return True
        if dtype != _SCALAR:
            precision.mark_chain_precision(env, st, insn.src)
            _adjust_ptr(env, st, insn, op, alu64, ptr=dst, off=src, off_is_dst=False)
            return True
        if dst.precise:
            precision.mark_chain_precision(env, st, insn.src)
        sv = fastalu.const_operand(src, not alu64)
        if sv is not None and op in _SHIFTS and src.umax >= (64 if alu64 else 32):
            sv = None       # is_safe_to_compute_dst_reg_range: the result is unknown (slow path)
    else:
        if dtype != _SCALAR:
            if not _ptr_add_imm(env, op, alu64, dst, insn.imm):
                _adjust_ptr(env, st, insn, op, alu64, ptr=dst, off=_fake_const(insn.imm), off_is_dst=False)
            return True
        sv = insn.imm & (U64_MAX if alu64 else U32_MAX)
    if sv is not None and op not in _DIVMOD and (op not in _AND_OR or dst.smin != -1 or dst.smax != 0):
        # both operands known (maybe_fork_scalars cannot fork: dst is not [-1, 0]): the result is
        # the known value, exactly what adjust_scalar and reg_bounds_sync give
        # (tests/verifier/test_fastalu.py)
        dst_umax = dst.umax
        if fastalu.alu_const(op, not alu64, dst, sv):
            if dst.id:
                _link_add_const(env, insn, op, alu64, is_x, dst, sv, dst_umax)
            else:
                dst.off = 0
            return False
    if alu64:
        d = fastalu.small_operand(dst)
        if d is not None:
            # small operands (fastalu): adjust_scalar and its reg_bounds_sync on four numbers
            # (maybe_fork_scalars cannot fork: dst is not negative)
            if is_x:
                s = fastalu.small_operand(regs[insn.src])
            else:
                imm = insn.imm
                s = (imm, 0, imm, imm) if 0 <= imm < _B31 else None
            if s is not None and fastalu.alu_small(op, dst, d[0], d[1], d[2], d[3], s[0], s[1], s[2], s[3]):
                if s[1]:
                    dst.id = 0
                    dst.off = 0
                else:
                    _link_add_const(env, insn, op, alu64, is_x, dst, s[0], d[3])
                # the result is one range and a tnum within 31 bits: sane unless the range is empty
                return dst.umin > dst.umax
    # the operand as adjust_scalar reads it (a copy when it is dst itself, which adjust_scalar changes)
    if is_x:
        src_val = regs[insn.src] if insn.src != insn.dst else dst.copy()
    else:
        src_val = bounds.Known(insn.imm)
    dst_umax = dst.umax
    if op in _AND_OR and not src_val.var_off.mask:
        _maybe_fork_scalars(env, insn, dst)
    if not bounds.adjust_scalar(op, not alu64, dst, src_val):
        dst.mark_unknown()
        return True
    if bounds.is_const(src_val, not alu64):
        _link_add_const(env, insn, op, alu64, is_x, dst, bounds.const_value(src_val, not alu64), dst_umax)
    else:
        dst.id = 0
        dst.off = 0
    return True


def _link_add_const(env: Env, insn: Instruction, op: int, alu64: bool, is_x: bool, dst: Reg, val: int,
                    dst_umax: int) -> None:
    """rX += K / rX -= K keeps the link to the registers rX was copied from, with a delta
    (``val``: the known operand, in the operation's width)."""
    if env.bpf_capable and (op == _ADD or op == _SUB) and dst.id and not (is_x and insn.src == insn.dst):
        off = val & U32_MAX
        if off >> 31:
            off -= 1 << 32
        sval = val - _B64 if val >> 63 else val
        keep = (alu64 and -_B31 <= sval < _B31) or (not alu64 and dst_umax <= U32_MAX)
        if keep and op == _SUB:
            keep = off != -_B31
            off = -off
        if keep and not dst.id & BPF_ADD_CONST:
            dst.id |= BPF_ADD_CONST64 if alu64 else BPF_ADD_CONST32
            dst.off = off
        else:
            dst.off = 0
            dst.id = 0
    else:
        dst.id = 0
        dst.off = 0


def _maybe_fork_scalars(env: Env, insn: Instruction, dst: Reg) -> None:
    """``maybe_fork_scalars`` (6.18 stable): ``x s>> 63`` (or 31) is 0 or -1; before masking it
    with a constant, explore the two values separately -- the 0 case as a new path that runs
    this instruction again."""
    if dst.smin == -1 and dst.smax == 0:
        alu32 = False
    elif dst.s32_min == -1 and dst.s32_max == 0:
        alu32 = True
    else:
        return
    assert env.fork is not None
    other = env.fork(env.insn_idx, env.insn_idx).frames[-1].regs[insn.dst]
    if alu32:
        bounds.mark_known32(other, 0)
        bounds.mark_known32(dst, U32_MAX)
    else:
        other.mark_known(0)
        dst.mark_known(-1)


_MAX_OFF = BPF_MAX_VAR_OFF


def _ptr_add_imm(env: Env, op: int, alu64: bool, dst: Reg, imm: int) -> bool:
    """``ptr += K`` / ``ptr -= K`` on a pointer at a known offset whose bounds say so, when the
    program is privileged and nothing is out of the ordinary: what :func:`_adjust_ptr` does then
    (its checks all pass, ``ptr_arith`` moves the fixed offset, ``reg_bounds_sync`` makes the
    32-bit bounds the value's).  False (``dst`` untouched) in every other case.
    tests/verifier/test_fastptr.py compares the two."""
    if not alu64 or (op != _ADD and op != _SUB) or not env.bypass_spec_v1:
        return False
    t = dst.type
    if t & _MAYBE_NULL or t & BASE_MASK not in _ARITH_OK or (op == _SUB and t == _STACK) or dst.range < 0:
        return False
    v, m = dst.var_off
    if m:
        return False
    sv = v - _B64 if v >> 63 else v
    if dst.umin != v or dst.umax != v or dst.smin != sv or dst.smax != sv:
        return False
    off = dst.off
    new = off + imm if op == _ADD else off - imm
    # check_reg_sane_offset of the constant, the pointer and the result
    if not (-_MAX_OFF < imm < _MAX_OFF and -_MAX_OFF < sv < _MAX_OFF and -_MAX_OFF < off < _MAX_OFF
            and -_MAX_OFF < new < _MAX_OFF):
        return False
    dst.off = new
    lo = v & U32_MAX
    dst.u32_min = dst.u32_max = lo
    dst.s32_min = dst.s32_max = lo - _B32 if lo >> 31 else lo
    return True


def _adjust_ptr(env: Env, st: VerifierState, insn: Instruction, op: int, alu64: bool, *, ptr: Reg, off: Reg,
                off_is_dst: bool) -> None:
    regs = st.frames[-1].regs
    dst = regs[insn.dst]
    known = not off.var_off.mask
    if ((known and (off.smin != off.smax or off.umin != off.umax)) or off.smin > off.smax
            or off.umin > off.umax):
        dst.mark_unknown()
        return
    if not alu64:
        if op == AluOp.SUB and env.allow_ptr_leaks:
            dst.mark_unknown()
            return
        raise env.error(f"R{insn.dst} 32-bit pointer arithmetic prohibited")
    if ptr.type & RegFlag.PTR_MAYBE_NULL:
        raise env.error(f"R{insn.dst} pointer arithmetic on {reg_type_str(ptr.type)} prohibited, null-check it "
                        "first")
    base = ptr.type & BASE_MASK
    ok = base in _ARITH_OK or (base == RegType.PTR_TO_FLOW_KEYS and known) or (
        base == RegType.CONST_PTR_TO_MAP and known and off.smin == 0 and op == AluOp.ADD)
    if not ok:
        raise env.error(f"R{insn.dst} pointer arithmetic on {reg_type_str(ptr.type)} prohibited")
    check_reg_sane_offset(env, off, ptr.type)
    check_reg_sane_offset(env, ptr, ptr.type)
    if op not in (AluOp.ADD, AluOp.SUB):
        if op in (AluOp.AND, AluOp.OR, AluOp.XOR):
            raise env.error(f"R{insn.dst} bitwise operator {ALU_STRING[op]} on pointer prohibited")
        raise env.error(f"R{insn.dst} pointer arithmetic with {ALU_STRING[op]} operator prohibited")
    if op == AluOp.SUB:
        if off_is_dst:
            raise env.error(f"R{insn.dst} tried to subtract pointer from scalar")
        if ptr.type == RegType.PTR_TO_STACK:
            raise env.error(f"R{insn.dst} subtraction from stack pointer prohibited")
    if not env.bypass_spec_v1 and not known and (off.smin < 0) != (off.smax < 0):
        raise env.error(f"R{insn.src if not off_is_dst else insn.dst} has unknown scalar with mixed signed "
                        "bounds, pointer arithmetic with it prohibited for !root")
    result = transfer.ptr_arith(env, op, ptr, off, not off_is_dst)
    check_reg_sane_offset(env, result, ptr.type)
    bounds.reg_bounds_sync(result)
    if not env.bypass_spec_v1:
        _sanitize_check_bounds(env, insn, result)
    dst.assign(result)


def _sanitize_check_bounds(env: Env, insn: Instruction, dst: Reg) -> None:
    """Unprivileged loaders must keep pointer arithmetic inside the object."""
    if dst.type == RegType.PTR_TO_STACK:
        if dst.var_off.mask:
            raise env.error(f"R{insn.dst} variable stack access prohibited for !root, "
                            f"var_off={tnum_str(dst.var_off)} off={dst.off}")
        off = dst.off + s64(dst.var_off.value)
        if off >= 0 or off < -MAX_BPF_STACK:
            raise env.error(f"R{insn.dst} stack pointer arithmetic goes out of range, prohibited for !root; "
                            f"off={off}")
    elif dst.type == RegType.PTR_TO_MAP_VALUE:
        assert dst.map is not None
        lo, hi = dst.off + dst.smin, dst.off + dst.umax
        if dst.smin < 0 or lo < 0 or hi + 1 > dst.map.value_size or dst.umax >= 1 << 29:
            raise env.error(f"R{insn.dst} pointer arithmetic of map value goes out of range, prohibited for "
                            "!root")


# ---- loads and stores --------------------------------------------------------------------------------------

_CTX_MISMATCH_OK = (RegType.PTR_TO_CTX, RegType.PTR_TO_SOCKET, RegType.PTR_TO_SOCK_COMMON,
                    RegType.PTR_TO_TCP_SOCK, RegType.PTR_TO_XDP_SOCK, RegType.PTR_TO_BTF_ID)


def _save_aux_ptr_type(env: Env, pc: int, t: int, allow_trust_mismatch: bool = False) -> None:
    """``save_aux_ptr_type``: a load/store rewritten for ctx must only ever see ctx."""
    aux = env.aux[pc]
    prev = aux.ptr_type
    if prev is None:
        aux.ptr_type = t
        return
    if prev != t and ((t & BASE_MASK) in _CTX_MISMATCH_OK or (prev & BASE_MASK) in _CTX_MISMATCH_OK):
        if allow_trust_mismatch and t & BASE_MASK == prev & BASE_MASK == RegType.PTR_TO_BTF_ID:
            aux.ptr_type = RegType.PTR_TO_BTF_ID | RegFlag.PTR_UNTRUSTED   # loads become PROBE_MEM
            return
        raise env.error("same insn cannot be used with different pointers")


def do_ldx(env: Env, st: VerifierState, insn: Instruction, *, atomic: bool = False) -> None:
    """A load (``check_load_mem``); ``atomic``: a load-acquire (strict alignment, no trust mismatch)."""
    is_ldsx = insn.opcode & MODE_MASK == Mode.MEMSX
    src = check_reg_read(env, st, insn.src)
    check_reg_write(env, insn.dst)
    src_type = src.type
    size = _NBYTES[insn.opcode & SIZE_MASK]
    load = check_mem_access(env, st, insn.src, insn.off, size, Access.READ, insn.dst, is_ldsx=is_ldsx,
                            strict_once=atomic)
    _save_aux_ptr_type(env, env.insn_idx, src_type, allow_trust_mismatch=not atomic)
    if src.type == RegType.PTR_TO_STACK:
        grow_stack(env, st, src, insn.off + src.off, size)
    if load.spill_slot is not None:
        precision.push_history(env, st, stack=load.spill_slot)
    dst = st.frames[-1].regs[insn.dst]
    if transfer.apply_load(env, dst, load, size, is_ldsx):
        _sanity(dst)


def do_stx(env: Env, st: VerifierState, insn: Instruction, *, atomic: bool = False) -> None:
    """A store from a register (``check_store_reg``); ``atomic``: a store-release (strict alignment)."""
    if not atomic:
        if insn.opcode & MODE_MASK == Mode.ATOMIC:
            do_atomic(env, st, insn)
            return
        if insn.opcode & MODE_MASK != Mode.MEM or insn.imm != 0:
            raise env.error("BPF_STX uses reserved fields")
    value = check_reg_read(env, st, insn.src)
    ptr = check_reg_read(env, st, insn.dst)
    ptr_type = ptr.type
    size = _NBYTES[insn.opcode & SIZE_MASK]
    check_mem_access(env, st, insn.dst, insn.off, size, Access.WRITE, insn.src, strict_once=atomic)
    _save_aux_ptr_type(env, env.insn_idx, ptr_type)
    if ptr.type == RegType.PTR_TO_STACK:
        grow_stack(env, st, ptr, insn.off + ptr.off, size)
        _stack_store(env, st, insn, ptr, size, value, None, insn.src)


def _stack_store(env: Env, st: VerifierState, insn: Instruction, ptr: Reg, size: int, value: Reg | None,
                 imm: int | None, value_regno: int) -> None:
    off = insn.off + ptr.off
    spilled, zero_used = transfer.stack_write(env, st, st.frames[ptr.frameno], ptr, off, size, value, imm)
    if spilled:
        spi = (-(off + s64(ptr.var_off.value)) - 1) // 8
        precision.push_history(env, st, stack=(ptr.frameno, spi))
    if zero_used and value_regno >= 0:
        precision.mark_chain_precision(env, st, value_regno)


def do_st(env: Env, st: VerifierState, insn: Instruction) -> None:
    if insn.opcode & MODE_MASK != Mode.MEM or insn.src != 0:
        raise env.error("BPF_ST uses reserved fields")
    ptr = check_reg_read(env, st, insn.dst)
    ptr_type = ptr.type
    size = _NBYTES[insn.opcode & SIZE_MASK]
    check_mem_access(env, st, insn.dst, insn.off, size, Access.WRITE, -1)
    _save_aux_ptr_type(env, env.insn_idx, ptr_type)
    if ptr.type == RegType.PTR_TO_STACK:
        grow_stack(env, st, ptr, insn.off + ptr.off, size)
        _stack_store(env, st, insn, ptr, size, None, insn.imm, -1)


_ATOMIC_OPS = (0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xA0, 0xA1, 0xE1, 0xF1)
#: ``BPF_LOAD_ACQ`` and ``BPF_STORE_REL`` (``imm`` of ``STX | ATOMIC``, every size)
LOAD_ACQ, STORE_REL = 0x100, 0x110
#: what an atomic may not touch (``atomic_ptr_type_ok``; arenas are refused on this kernel's config)
_ATOMIC_REFUSED = frozenset({RegType.PTR_TO_CTX, RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META,
                             RegType.PTR_TO_FLOW_KEYS, RegType.PTR_TO_SOCKET, RegType.PTR_TO_SOCK_COMMON,
                             RegType.PTR_TO_TCP_SOCK, RegType.PTR_TO_XDP_SOCK})


def _load_acquire(env: Env, st: VerifierState, insn: Instruction) -> None:
    # the load is checked first; the pointer's type after it (the load may overwrite it) decides
    do_ldx(env, st, insn, atomic=True)
    src = st.frames[-1].regs[insn.src]
    if src.type in _ATOMIC_REFUSED:
        raise env.error(f"BPF_ATOMIC loads from R{insn.src} {reg_type_str(src.type)} is not allowed")


def _store_release(env: Env, st: VerifierState, insn: Instruction) -> None:
    do_stx(env, st, insn, atomic=True)
    dst = st.frames[-1].regs[insn.dst]
    if dst.type in _ATOMIC_REFUSED:
        raise env.error(f"BPF_ATOMIC stores into R{insn.dst} {reg_type_str(dst.type)} is not allowed")


def do_atomic(env: Env, st: VerifierState, insn: Instruction) -> None:
    if insn.imm not in _ATOMIC_OPS:
        if insn.imm == LOAD_ACQ:
            _load_acquire(env, st, insn)
            return
        if insn.imm == STORE_REL:
            _store_release(env, st, insn)
            return
        raise env.error(f"BPF_ATOMIC uses invalid atomic opcode {insn.imm & 0xFFFFFFFF:02x}")
    if insn.opcode & SIZE_MASK not in (Size.W, Size.DW):
        raise env.error("invalid atomic operand size")
    regs = st.frames[-1].regs
    check_reg_read(env, st, insn.src)
    dst = check_reg_read(env, st, insn.dst)
    if insn.imm == 0xF1:
        r0 = check_reg_read(env, st, 0)
        if is_pointer_value(env, r0):
            raise env.error("R0 leaks addr into mem")
    if is_pointer_value(env, regs[insn.src]):
        raise env.error(f"R{insn.src} leaks addr into mem")
    if dst.type in (RegType.PTR_TO_CTX, RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META,
                    RegType.PTR_TO_FLOW_KEYS, RegType.PTR_TO_SOCKET, RegType.PTR_TO_SOCK_COMMON,
                    RegType.PTR_TO_TCP_SOCK, RegType.PTR_TO_XDP_SOCK):
        raise env.error(f"BPF_ATOMIC stores into R{insn.dst} {reg_type_str(dst.type)} is not allowed")
    load_reg = -1
    if insn.imm & 1:
        load_reg = 0 if insn.imm == 0xF1 else insn.src
        check_reg_write(env, load_reg)
        regs[load_reg].mark_unknown()
    size = _NBYTES[insn.opcode & SIZE_MASK]
    check_mem_access(env, st, insn.dst, insn.off, size, Access.READ, -1, strict_once=True)
    if load_reg >= 0:
        load = check_mem_access(env, st, insn.dst, insn.off, size, Access.READ, load_reg, strict_once=True)
        if dst.type == RegType.PTR_TO_STACK:
            grow_stack(env, st, dst, insn.off + dst.off, size)
        transfer.apply_load(env, regs[load_reg], load, size, False)
    ptr = regs[insn.dst]
    check_mem_access(env, st, insn.dst, insn.off, size, Access.WRITE, -1, strict_once=True)
    if ptr.type == RegType.PTR_TO_STACK:
        grow_stack(env, st, ptr, insn.off + ptr.off, size)
        transfer.stack_write(env, st, st.frames[ptr.frameno], ptr, insn.off + ptr.off, size, None, None)


def do_ld_imm64(env: Env, st: VerifierState, insn: Instruction) -> None:
    if insn.off != 0:
        raise env.error("BPF_LD_IMM64 uses reserved fields")
    check_reg_write(env, insn.dst)
    dst = st.frames[-1].regs[insn.dst]
    if insn.src == PseudoLoad.IMM64:
        dst.mark_const(insn.imm64)      # sets every field mark_unknown would
        return
    dst.mark_unknown()
    dst.mark_known_zero()
    if insn.src == PseudoLoad.FUNC:
        target = env.insn_idx + insn.imm + 1
        subprogno = env.find_subprog(target)
        if not env.func_names:
            raise env.error("missing btf func_info")
        if env.subprogs[subprogno].is_global:
            raise env.error("callback function not static")
        dst.type = RegType.PTR_TO_FUNC
        dst.subprogno = subprogno
        return
    if insn.src == PseudoLoad.BTF_ID:
        mark_btf_var(env, dst, insn)
        return
    m = env.maps[insn.imm]
    dst.map = m
    if insn.src in (PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE):
        dst.type = RegType.PTR_TO_MAP_VALUE
        dst.off = insn.imm_hi & U32_MAX
    else:
        dst.type = RegType.CONST_PTR_TO_MAP


def do_ld_abs(env: Env, st: VerifierState, insn: Instruction) -> None:
    from bpfbuild.abi.progtypes import ProgType

    if env.prog_type not in (ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.SCHED_ACT):
        raise env.error("BPF_LD_[ABS|IND] instructions not allowed for this program type")
    mode = insn.opcode & MODE_MASK
    if insn.dst != 0 or insn.off != 0 or insn.opcode & SIZE_MASK == Size.DW or (mode == Mode.ABS and insn.src != 0):
        raise env.error("BPF_LD_[ABS|IND] uses reserved fields")
    r6 = check_reg_read(env, st, 6)
    lock_exit_error(env, st, "BPF_LD_[ABS|IND]")
    if st.refs:
        lines = [f"Unreleased reference id={r.id} alloc_insn={r.insn_idx}" for r in st.refs]
        raise env.error("\n".join([*lines, "BPF_LD_[ABS|IND] would lead to reference leak"]))
    if st.irqs:
        raise env.error("BPF_LD_[ABS|IND] cannot be used inside bpf_local_irq_save-ed region")
    if st.active_rcu_lock:
        raise env.error("BPF_LD_[ABS|IND] cannot be used inside bpf_rcu_read_lock-ed region")
    if st.active_preempt_locks:
        raise env.error("BPF_LD_[ABS|IND] cannot be used inside bpf_preempt_disable-ed region")
    if r6.type != RegType.PTR_TO_CTX:
        raise env.error("at the time of BPF_LD_ABS|IND R6 != pointer to skb")
    if mode == Mode.IND:
        check_reg_read(env, st, insn.src)
    check_ptr_off_reg(env, r6, 6)
    regs = st.frames[-1].regs
    for i in range(6):
        regs[i].mark_not_init()
    regs[0].mark_unknown()


# ---- conditional jumps --------------------------------------------------------------------------------------

def is_branch_taken(r1: Reg, r2: Reg, op: int, jmp32: bool) -> int:
    if r1.type == _SCALAR and r2.type == _SCALAR:
        v1 = fastalu.const_operand(r1, jmp32)
        if v1 is not None:
            v2 = fastalu.const_operand(r2, jmp32)
            if v2 is not None:
                return fastalu.branch_const(op, jmp32, v1, v2)
        return bounds.is_scalar_branch_taken(r1, r2, op, jmp32)
    if r1.type in _PKT_ANY and r2.type in _PKT_ANY and not jmp32:
        return _pkt_branch_taken(r1, r2, op)
    if r1.type != RegType.SCALAR_VALUE or r2.type != RegType.SCALAR_VALUE:
        if not bounds.is_const(r2, jmp32) or r2.type != RegType.SCALAR_VALUE:
            op = bounds.flip_opcode(op)
            r1, r2 = r2, r1
        if r2.type != RegType.SCALAR_VALUE or not bounds.is_const(r2, jmp32):
            return -1
        if not _reg_not_null(r1):
            return -1
        if bounds.const_value(r2, jmp32) != 0:
            return -1
        if op == JmpOp.JEQ:
            return 0
        if op == JmpOp.JNE:
            return 1
        return -1
    return bounds.is_scalar_branch_taken(r1, r2, op, jmp32)


def _reg_not_null(reg: Reg) -> bool:
    t = reg.type
    if t & RegFlag.PTR_MAYBE_NULL:
        return False
    base = t & BASE_MASK
    if base == RegType.PTR_TO_BTF_ID:
        return btfid.is_trusted_reg(reg)
    if base == RegType.PTR_TO_MEM:
        return not t & RegFlag.PTR_UNTRUSTED
    return base in (RegType.PTR_TO_SOCKET, RegType.PTR_TO_TCP_SOCK, RegType.PTR_TO_MAP_VALUE,
                    RegType.PTR_TO_MAP_KEY, RegType.PTR_TO_SOCK_COMMON, RegType.CONST_PTR_TO_MAP)


def _pkt_branch_taken(dst: Reg, src: Reg, op: int) -> int:
    if src.type == RegType.PTR_TO_PACKET_END:
        pkt = dst
    elif dst.type == RegType.PTR_TO_PACKET_END:
        pkt = src
        op = bounds.flip_opcode(op)
    else:
        return -1
    if pkt.range >= 0:
        return -1
    if op in (JmpOp.JLE, JmpOp.JGT):
        if pkt.range == transfer.BEYOND_PKT_END:
            return 1 if op == JmpOp.JGT else 0
    elif op in (JmpOp.JLT, JmpOp.JGE) and pkt.range in (transfer.BEYOND_PKT_END, transfer.AT_PKT_END):
        return 1 if op == JmpOp.JGE else 0
    return -1


def _is_init_pkt_pointer(reg: Reg, typ: int) -> bool:
    return reg.type == typ and reg.id == 0 and reg.off == 0 and reg.var_off.equals_const(0)


#: ``try_match_pkt_pointers`` per comparison, when the packet pointer is on the left: whether
#: the fall-through state (``this``) learns the range, and whether that range is right-open
#: (the other state learns that the pointer is at or beyond the packet's end)
_PKT_CMP = {int(JmpOp.JGT): (True, False), int(JmpOp.JLT): (False, True), int(JmpOp.JGE): (True, True),
            int(JmpOp.JLE): (False, False)}


def _try_match_pkt_pointers(insn: Instruction, dst: Reg, src: Reg, this: VerifierState,
                            other: VerifierState) -> bool:
    if not insn.opcode & SOURCE_MASK or insn.opcode & CLASS_MASK == InsnClass.JMP32:
        return False
    op = insn.opcode & OP_MASK
    entry = _PKT_CMP.get(op)
    if entry is None:
        return False
    in_this, range_open = entry
    P, PE, PM = RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_END, RegType.PTR_TO_PACKET_META
    if (dst.type == P and src.type == PE) or (dst.type == PM and _is_init_pkt_pointer(src, P)):
        reg, regno = dst, insn.dst
    elif (dst.type == PE and src.type == P) or (_is_init_pkt_pointer(dst, P) and src.type == PM):
        # the packet pointer on the right: the same facts with the comparison flipped
        reg, regno = src, insn.src
        in_this = not in_this
        range_open = not range_open
    else:
        return False
    good, end = (this, other) if in_this else (other, this)
    transfer.find_good_pkt_pointers(good, reg, reg.type, range_open)
    transfer.mark_pkt_end(end, regno, not range_open)
    return True


def check_cond_jmp(env: Env, st: VerifierState, insn: Instruction) -> tuple[Reg, Reg, int, bool]:
    """The preconditions of a conditional jump; returns ``(dst, src, op, jmp32)`` (``src`` is a
    constant register for the immediate form)."""
    op = insn.opcode & OP_MASK
    if op == JmpOp.JA or op > JmpOp.JCOND:
        raise env.error(f"invalid BPF_JMP/JMP32 opcode {op:x}")
    dst = check_reg_read(env, st, insn.dst)
    if insn.opcode & SOURCE_MASK:
        if insn.imm != 0:
            raise env.error("BPF_JMP/JMP32 uses reserved fields")
        src = check_reg_read(env, st, insn.src)
        if not (dst.type in _PKT_ANY and src.type in _PKT_ANY) and is_pointer_value(env, src):
            raise env.error(f"R{insn.src} pointer comparison prohibited")
    else:
        if insn.src != 0:
            raise env.error("BPF_JMP/JMP32 uses reserved fields")
        src = _fake_const(insn.imm)
    return dst, src, op, insn.opcode & CLASS_MASK == InsnClass.JMP32


def refine_branches(env: Env, this: VerifierState, other: VerifierState, insn: Instruction, op: int,
                    jmp32: bool, src_const: Reg | None, linked: list[tuple[int, int, bool]]) -> None:
    """The two successor states of an undecided conditional jump: ``this`` falls through, ``other``
    jumps.  Both start as copies of the state before the jump."""
    regs = this.frames[-1].regs
    oregs = other.frames[-1].regs
    dst = regs[insn.dst]
    is_x = bool(insn.opcode & SOURCE_MASK)
    if is_x:
        transfer.reg_set_min_max(oregs[insn.dst], oregs[insn.src], dst, regs[insn.src], op, jmp32)
    else:
        transfer.reg_set_min_max_imm(oregs[insn.dst], dst, insn.imm, op, jmp32)
    if is_x:
        src = regs[insn.src]
        if src.type == RegType.SCALAR_VALUE and src.id:
            transfer.sync_linked_regs(this, src, linked)
            transfer.sync_linked_regs(other, oregs[insn.src], linked)
    if dst.type == RegType.SCALAR_VALUE and dst.id:
        transfer.sync_linked_regs(this, dst, linked)
        transfer.sync_linked_regs(other, oregs[insn.dst], linked)
    if is_x and not jmp32:
        src = regs[insn.src]
        if (src.type != RegType.SCALAR_VALUE and dst.type != RegType.SCALAR_VALUE
                and bool(src.type & RegFlag.PTR_MAYBE_NULL) != bool(dst.type & RegFlag.PTR_MAYBE_NULL)
                and src.type & BASE_MASK != RegType.PTR_TO_BTF_ID
                and dst.type & BASE_MASK != RegType.PTR_TO_BTF_ID):
            eq_regs = oregs if op == JmpOp.JEQ else regs if op == JmpOp.JNE else None
            if eq_regs is not None:
                if src.type & RegFlag.PTR_MAYBE_NULL:
                    transfer.mark_ptr_not_null_reg(eq_regs[insn.src])
                else:
                    transfer.mark_ptr_not_null_reg(eq_regs[insn.dst])
    if (not jmp32 and not is_x and insn.imm == 0 and op in (JmpOp.JEQ, JmpOp.JNE)
            and dst.type & RegFlag.PTR_MAYBE_NULL):
        transfer.mark_ptr_or_null_regs(this, insn.dst, op == JmpOp.JNE)
        transfer.mark_ptr_or_null_regs(other, insn.dst, op == JmpOp.JEQ)
    elif not _try_match_pkt_pointers(insn, dst, regs[insn.src], this, other) and is_pointer_value(env, dst):
        raise env.error(f"R{insn.dst} pointer comparison prohibited")


def do_cond_jmp(env: Env, st: VerifierState, insn: Instruction) -> tuple[int, Reg | None, int, bool]:
    """Checks and decides a conditional jump: ``(pred, src_const, op, jmp32)`` with pred 1
    (always taken), 0 (never) or -1 (both ways: the caller forks and calls :func:`refine_branches`)."""
    dst, src, op, jmp32 = check_cond_jmp(env, st, insn)
    pred = is_branch_taken(dst, src, op, jmp32)
    return pred, (src if not insn.opcode & SOURCE_MASK else None), op, jmp32


__all__ += ["check_cond_jmp", "is_branch_taken", "refine_branches"]
