"""The verifier log, in the kernel's format (kernel/bpf/log.c).

:func:`reg_str` prints one register as the kernel does (``ctx()``, ``pkt(off=14,r=14)``,
``scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))``, ``fp-8``, ``1``);
:func:`frame_str` a whole frame (`` R1=ctx() R10=fp0 fp-8=mmmm????``).  :class:`VerifierLog`
collects the text; like the kernel at log level 1 it can be rewound to where a path was
forked, so that only the path that failed remains.
"""

from __future__ import annotations

from bpfbuild.verifier.bounds import S32_MAX, S32_MIN, S64_MAX, S64_MIN
from bpfbuild.verifier.state import (
    DYNPTR_TYPE_NAMES,
    FuncState,
    Reg,
    RegFlag,
    RegType,
    SlotType,
    VerifierState,
    reg_type_str,
)
from bpfbuild.verifier.tnum import U32_MAX, U64_MAX, tnum_str

__all__ = ["VerifierLog", "frame_str", "reg_str", "snum", "unum"]

_SLOT_CHAR = {SlotType.STACK_INVALID: "?", SlotType.STACK_SPILL: "r", SlotType.STACK_MISC: "m",
              SlotType.STACK_ZERO: "0", SlotType.STACK_DYNPTR: "d", SlotType.STACK_ITER: "i",
              SlotType.STACK_IRQ_FLAG: "f"}


def unum(n: int) -> str:
    """``verbose_unum``: decimal up to 65535 (U16_MAX), hex beyond."""
    n &= U64_MAX
    return str(n) if n <= 0xFFFF else f"{n:#x}"


def snum(n: int) -> str:
    """``verbose_snum``: decimal in -32768..32767, else the 64-bit pattern in hex."""
    if -32768 <= n <= 32767:
        return str(n)
    return f"{n & U64_MAX:#x}"


def _scalar_ranges(reg: Reg) -> list[str]:
    s32min = reg.s32_min if -32768 <= reg.s32_min <= 32767 else reg.s32_min & U32_MAX
    s32max = reg.s32_max if -32768 <= reg.s32_max <= 32767 else reg.s32_max & U32_MAX
    items = [
        ["smin", reg.smin, reg.smin == S64_MIN],
        ["smax", reg.smax, reg.smax == S64_MAX],
        ["umin", reg.umin, reg.umin == 0],
        ["umax", reg.umax, reg.umax == U64_MAX],
        ["smin32", s32min, reg.s32_min == S32_MIN],
        ["smax32", s32max, reg.s32_max == S32_MAX],
        ["umin32", reg.u32_min, reg.u32_min == 0],
        ["umax32", reg.u32_max, reg.u32_max == U32_MAX],
    ]
    out: list[str] = []
    for i, m1 in enumerate(items):
        if m1[2]:
            continue
        name1, val1 = str(m1[0]), int(m1[1])  # type: ignore[call-overload]
        neg1 = name1[0] == "s" and val1 < 0
        text = name1 + "="
        for m2 in items[i + 2::2]:
            if m2[2] or m2[1] != val1:
                continue
            neg2 = str(m2[0])[0] == "s" and int(m2[1]) < 0  # type: ignore[call-overload]
            if neg2 != neg1:
                continue
            m2[2] = True
            text += f"{m2[0]}="
        text += snum(val1) if name1[0] == "s" else unum(val1)
        out.append(text)
    return out


_ADD_CONST = 3 << 30   # BPF_ADD_CONST64 | BPF_ADD_CONST32


def _btf_type_name(btf: object, type_id: int) -> str:
    """``btf_type_name``: the name of a (BTF-typed) register's pointee, as the log prints it."""
    try:
        return getattr(btf.type(type_id), "name", "") or ""  # type: ignore[attr-defined]
    except (LookupError, ValueError):
        return ""


def reg_str(reg: Reg, frameno: int) -> str:
    """One register as ``print_reg_state`` prints it (``frameno``: the frame it is printed in)."""
    t = reg.type
    prefix = "P" if t == RegType.SCALAR_VALUE and reg.precise else ""
    if t == RegType.SCALAR_VALUE and not reg.var_off.mask:
        v = reg.var_off.value
        return prefix + snum(v - (1 << 64) if v >> 63 else v)
    text = prefix + reg_type_str(t)
    base = t & 0xFF
    if base == RegType.PTR_TO_STACK and t == RegType.PTR_TO_STACK:
        if frameno != reg.frameno:
            text += f"[{reg.frameno}]"
        if not reg.var_off.mask:
            v = reg.var_off.value
            v = v - (1 << 64) if v >> 63 else v
            return text + snum(v + reg.off)
    if base == RegType.PTR_TO_BTF_ID and reg.btf is not None:
        text += _btf_type_name(reg.btf, reg.btf_id)
    parts: list[str] = []
    if reg.id:
        ident = f"id={reg.id & ~_ADD_CONST}"
        if reg.id & _ADD_CONST:
            ident += f"{reg.off:+d}"
        parts.append(ident)
    if reg.ref_obj_id:
        parts.append(f"ref_obj_id={reg.ref_obj_id}")
    if base == RegType.PTR_TO_BTF_ID and t & RegFlag.MEM_ALLOC and t & RegFlag.NON_OWN_REF:
        parts.append("non_own_ref")
    if base in (RegType.CONST_PTR_TO_MAP, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MAP_KEY) and reg.map:
        if reg.map.name:
            parts.append(f"map={reg.map.name}")
        parts.append(f"ks={reg.map.key_size},vs={reg.map.value_size}")
    if t != RegType.SCALAR_VALUE and reg.off:
        parts.append("off=" + snum(reg.off))
    if base in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
        parts.append("r=" + unum(reg.range))
    if base == RegType.PTR_TO_MEM:
        parts.append("sz=" + unum(reg.mem_size))
    if not reg.var_off.mask:
        if reg.var_off.value:
            v = reg.var_off.value
            parts.append("imm=" + snum(v - (1 << 64) if v >> 63 else v))
    else:
        parts.extend(_scalar_ranges(reg))
        if reg.var_off.mask != U64_MAX:
            parts.append("var_off=" + tnum_str(reg.var_off))
    return text + "(" + ",".join(parts) + ")"


#: ``iter_state_str``: an open-coded iterator's state (verifier/kfuncs.py ITER_ACTIVE/ITER_DRAINED)
_ITER_STATES = {1: "active", 2: "drained"}


def _slot_types(slot_type: bytearray) -> str:
    return "".join(_SLOT_CHAR.get(SlotType(b), "?") for b in slot_type)


def frame_str(vstate: VerifierState, frame: FuncState, regs: int | None = None,
              slots: set[int] | None = None) -> str:
    """``print_verifier_state``: `` R1=ctx() R10=fp0 fp-8=mmmm????``; with ``regs`` (a bit mask)
    and ``slots`` only those registers and stack slots are printed (the "scratched" ones)."""
    out: list[str] = []
    if frame.frameno:
        out.append(f" frame{frame.frameno}:")
    for i, reg in enumerate(frame.regs):
        if reg.type == RegType.NOT_INIT:
            continue
        if regs is not None and not regs & (1 << i):
            continue
        out.append(f" R{i}={reg_str(reg, frame.frameno)}")
    for spi, slot in enumerate(frame.stack):
        if slots is not None and spi not in slots:
            continue
        if all(b == SlotType.STACK_INVALID for b in slot.slot_type):
            continue
        types = _slot_types(slot.slot_type)
        off = -(spi + 1) * 8
        if slot.slot_type[7] == SlotType.STACK_SPILL:
            j = next(j for j in range(8) if slot.slot_type[j] == SlotType.STACK_SPILL)
            out.append(f" fp{off}={types[:j]}{reg_str(slot.spilled_ptr, frame.frameno)}")
        elif slot.slot_type[7] == SlotType.STACK_DYNPTR:
            sp = slot.spilled_ptr
            if sp.dynptr_first:   # printed once, at its first (higher) slot
                # the kernel's dynptr_id shares its bytes with dynptr.first_slot: it reads 1 here
                ids = ",".join(f"{k}={v}" for k, v in (("id", sp.id), ("ref_id", sp.ref_obj_id),
                                                        ("dynptr_id", 1)) if v)
                out.append(f" fp{off}=dynptr_{DYNPTR_TYPE_NAMES.get(sp.dynptr_type, '<invalid>')}({ids})")
        elif slot.slot_type[7] == SlotType.STACK_ITER:
            sp = slot.spilled_ptr
            if sp.ref_obj_id:   # only an iterator's main slot is printed
                kind = _btf_type_name(sp.btf, sp.btf_id).removeprefix("bpf_iter_") if sp.btf is not None else ""
                state = _ITER_STATES.get(getattr(sp, "iter_state", 0), "<invalid>")
                out.append(f" fp{off}=iter_{kind}(ref_id={sp.ref_obj_id},state={state},"
                           f"depth={getattr(sp, 'iter_depth', 0)})")
        else:
            out.append(f" fp{off}={types}")
    # held locks are references too, in the order they were taken
    ids = [r.id for _i, r in sorted([(r.insn_idx, r) for r in (*vstate.refs, *vstate.locks, *vstate.irqs)],
                                    key=lambda e: e[0])]
    if ids and ids[0]:
        out.append(" refs=" + ",".join(str(i) for i in ids if i))
    if frame.in_callback_fn:
        out.append(" cb")
    if frame.in_async_callback_fn:
        out.append(" async_cb")
    return "".join(out)


class VerifierLog:
    """The log text at ``level`` (0 off, 1 the failing path, 2 everything).

    ``mark()`` returns a position; ``rewind(pos)`` drops what came after it (the kernel's
    ``bpf_vlog_reset`` when a finished path is popped at level 1).
    """

    __slots__ = ("_len", "_parts", "level", "prev_insn_len", "prev_insn_pos")

    def __init__(self, level: int) -> None:
        self.level = level
        self._parts: list[str] = []
        self._len = 0
        self.prev_insn_pos = -1   # where the last instruction line ended (for the "; state" note)
        self.prev_insn_len = 0

    @property
    def enabled(self) -> bool:
        return self.level > 0

    def write(self, text: str) -> None:
        if self.level:
            self._parts.append(text)
            self._len += len(text)

    def mark(self) -> int:
        return self._len

    def rewind(self, pos: int) -> None:
        if not self.level or pos >= self._len:
            return
        # from the end: the "; state" note rewinds one character after every instruction, so
        # joining the whole log each time would make a level-2 log quadratic in its length
        parts = self._parts
        end = self._len
        while parts and end - len(parts[-1]) >= pos:
            end -= len(parts.pop())
        if end > pos:
            last = parts.pop()
            parts.append(last[:len(last) - (end - pos)])
        self._len = pos

    def text(self) -> str:
        return "".join(self._parts)

    def ends_with_newline(self) -> bool:
        return bool(self._parts) and self._parts[-1].endswith("\n")

