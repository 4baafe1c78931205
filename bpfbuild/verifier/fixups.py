"""The program as the kernel keeps it after verification: bpftool's ``xlated`` image, offline.

After a privileged load accepts a program, Linux 6.18's ``bpf_check`` rewrites it before the JIT
sees it, and ``bytes_xlated`` / ``prog dump xlated`` show the result.  :func:`xlated` applies the
same rewrites, in the kernel's order, to an object's program, from our verifier's run:

0. ``remove_fastcall_spills_fills``: the spills and fills around an inlined bpf_fastcall call
   (``bpf_get_smp_processor_id``, KF_FASTCALL kfuncs) become ``goto +0``;
1. dead code (``opt_hard_wire_dead_code_branches``, ``opt_remove_dead_code``,
   ``opt_remove_nops``): a conditional jump one of whose successors was never reached becomes
   ``goto`` (or ``goto +0``), instructions never reached are removed, and so are ``goto +0``;
2. context accesses (``convert_ctx_accesses``): ``struct xdp_md`` and ``struct __sk_buff``
   packet fields become loads from the kernel's ``xdp_buff`` / ``sk_buff`` (offsets from the
   target's BTF);
3. ``do_misc_fixups``: division/modulo by a register guarded against 0 (and -1 when signed),
   map lookups inlined by map type (``array_map_gen_lookup`` and its siblings), the other map
   helpers called directly (``htab_map_update_elem``...),
   ``bpf_jiffies64`` and ``bpf_get_smp_processor_id`` inlined.

Jumps, bpf-to-bpf calls, line info and function info move as the kernel's
``bpf_adj_branches`` / ``bpf_adj_linfo`` move them.  What is not modelled (a rewrite we do not
reproduce, context fields we do not convert) is named in :attr:`Xlated.notes`; the image is then
what we could compute, and may differ from the kernel's.  Only the privileged rules
(root/CAP_BPF+CAP_PERFMON, JIT on, x86-64): no speculation hardening, no zero-extension.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa.fields import AluOp, InsnClass, JmpOp, Mode, PseudoCall, PseudoLoad, Size, Source
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.verifier.state import BASE_MASK, RegType

if TYPE_CHECKING:
    from bpfbuild.abi.target import Target
    from bpfbuild.btf.spec import Spec
    from bpfbuild.obj.spec import FuncInfo, LineRecord, ObjectSpec, Program
    from bpfbuild.verifier.report import Report

__all__ = ["Xlated", "xlated"]

# helper ids (include/uapi/linux/bpf.h)
_MAP_LOOKUP, _MAP_UPDATE, _MAP_DELETE = 1, 2, 3
_GET_SMP_PROCESSOR_ID = 8
_TAIL_CALL = 12
_JIFFIES64 = 118
_MAP_PUSH, _MAP_POP, _MAP_PEEK = 87, 88, 89
_REDIRECT_MAP = 51
_FOR_EACH_MAP_ELEM = 164
_MAP_LOOKUP_PERCPU = 195
_LOOP = 181
#: helpers whose call the kernel replaces by code we do not reproduce (their presence is a note)
_NOT_MODELLED = {_LOOP: "bpf_loop inlining", 170: "bpf_timer_set_callback", 183: "bpf_get_func_arg",
                 184: "bpf_get_func_ret", 185: "bpf_get_func_arg_cnt", 194: "bpf_kptr_xchg",
                 176: "bpf_get_branch_snapshot"}

_BPF_REG_AX = 11       # the kernel's hidden scratch register (MAX_BPF_REG)
_PERCPU_OFF = -1       # BPF_MOV64_PERCPU_REG: mov with off = -1 (a per-CPU address)

_JA0 = Instruction(InsnClass.JMP | JmpOp.JA)
_MAY_GOTO0 = Instruction(InsnClass.JMP | JmpOp.JCOND)

#: the kernel's functions behind a map's ops (``map->ops->map_update_elem``...), by map type
_OPS_NAMES = {
    MapType.ARRAY: ("array_map_lookup_elem", "array_map_update_elem", "array_map_delete_elem"),
    MapType.PERCPU_ARRAY: ("percpu_array_map_lookup_elem", "array_map_update_elem", "array_map_delete_elem"),
    MapType.HASH: ("htab_map_lookup_elem", "htab_map_update_elem", "htab_map_delete_elem"),
    MapType.LRU_HASH: ("htab_lru_map_lookup_elem", "htab_lru_map_update_elem", "htab_lru_map_delete_elem"),
    MapType.PERCPU_HASH: ("htab_percpu_map_lookup_elem", "htab_percpu_map_update_elem", "htab_map_delete_elem"),
    MapType.LRU_PERCPU_HASH: ("htab_lru_percpu_map_lookup_elem", "htab_lru_percpu_map_update_elem",
                              "htab_lru_map_delete_elem"),
}
_HASHES = (MapType.HASH, MapType.LRU_HASH, MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH, MapType.HASH_OF_MAPS)

_BPF_F_INNER_MAP = 1 << 12


@dataclass(frozen=True)
class Xlated:
    """A program as the kernel would hold it after loading (see the module docstring).

    ``program`` is the object's program with the rewritten instructions, line and function
    info; ``call_names`` names, by pc, the kernel function a rewritten call now calls
    (``__htab_map_lookup_elem``); ``notes`` what was not modelled (empty: the image is exact
    as far as these rewrites go)."""

    program: Program
    call_names: dict[int, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def bytes_xlated(self) -> int:
        return self.program.bytes_xlated


# --- the editable image --------------------------------------------------------------------------

def _ins(opcode: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> Instruction:
    return Instruction(opcode, dst, src, off, imm)


def _ja(off: int) -> Instruction:
    return _ins(InsnClass.JMP | JmpOp.JA, off=off)


def _alu64_imm(op: AluOp, dst: int, imm: int) -> Instruction:
    return _ins(InsnClass.ALU64 | op | Source.K, dst, imm=imm)


def _alu32_imm(op: AluOp, dst: int, imm: int) -> Instruction:
    return _ins(InsnClass.ALU | op | Source.K, dst, imm=imm)


def _jmp_imm(op: JmpOp, dst: int, imm: int, off: int, cls: InsnClass = InsnClass.JMP) -> Instruction:
    return _ins(cls | op | Source.K, dst, off=off, imm=imm)


def _ldx(size: Size, dst: int, src: int, off: int) -> Instruction:
    return _ins(InsnClass.LDX | Mode.MEM | size, dst, src, off)


def _call(helper: int) -> Instruction:
    return _ins(InsnClass.JMP | JmpOp.CALL, imm=helper)


class _Image:
    """Slots (None: an ld_imm64's second half) with their aux records, line/func info and call
    names, edited as the kernel's ``bpf_patch_insn_data`` / ``verifier_remove_insns`` edit."""

    def __init__(self, prog: Program, aux: Sequence[Any]) -> None:
        self.slots: list[Instruction | None] = []
        for insn in prog.insns:
            self.slots.append(insn)
            if insn.opcode == LD_IMM64_OPCODE:
                self.slots.append(None)
        self.aux: list[Any] = list(aux[: len(self.slots)]) + [None] * max(0, len(self.slots) - len(aux))
        self.seen = [bool(a is not None and a.seen) for a in self.aux]
        for i, insn in enumerate(self.slots):    # the second half is seen with the first
            if insn is None and i:
                self.seen[i] = self.seen[i - 1]
        self.lines: list[list[Any]] = [[r.pc, r] for r in prog.line_info]
        self.funcs: list[list[Any]] = [[f.pc, f] for f in prog.func_info]
        self.names: list[str | None] = [None] * len(self.slots)

    # -- branches (bpf_adj_branches) --
    def _adjust(self, pos: int, end_old: int, end_new: int) -> None:
        delta = end_new - end_old
        for curr, insn in enumerate(self.slots):
            if insn is None or pos <= curr < end_new:
                continue
            is_func = insn.opcode == LD_IMM64_OPCODE and insn.src == PseudoLoad.FUNC
            cls = insn.cls
            if not is_func and (cls not in (InsnClass.JMP, InsnClass.JMP32) or insn.jmp_op == JmpOp.EXIT):
                continue
            if not is_func and insn.jmp_op == JmpOp.CALL and insn.src != PseudoCall.CALL:
                continue
            use_imm = is_func or insn.jmp_op == JmpOp.CALL or (cls == InsnClass.JMP32 and insn.jmp_op == JmpOp.JA)
            off = insn.imm if use_imm else insn.off
            if curr < pos and curr + off + 1 >= end_old:
                off += delta
            elif curr >= end_new and curr + off + 1 < end_new:
                off -= delta
            else:
                continue
            self.slots[curr] = dataclasses.replace(insn, imm=off) if use_imm else dataclasses.replace(insn, off=off)

    def patch(self, pos: int, new: Sequence[Instruction], names: dict[int, str] | None = None) -> int:
        """Replace the one-slot instruction at ``pos`` by ``new``; returns the slots added."""
        expanded: list[Instruction | None] = []
        for insn in new:
            expanded.append(insn)
            if insn.opcode == LD_IMM64_OPCODE:
                expanded.append(None)
        n = len(expanded)
        delta = n - 1
        aux = self.aux[pos]
        self.slots[pos:pos + 1] = expanded
        self.aux[pos:pos + 1] = [aux] * n
        self.seen[pos:pos + 1] = [True] * n
        self.names[pos:pos + 1] = [(names or {}).get(k) for k in range(n)]
        if delta:
            self._adjust(pos, pos + 1, pos + n)
            for rec in self.lines:
                if rec[0] > pos:
                    rec[0] += delta
            for rec in self.funcs:
                if rec[0] > pos:
                    rec[0] += delta
        return delta

    def remove(self, off: int, cnt: int) -> None:
        """``verifier_remove_insns``: drop ``cnt`` slots at ``off``."""
        del self.slots[off:off + cnt], self.aux[off:off + cnt], self.seen[off:off + cnt], self.names[off:off + cnt]
        self._adjust(off, off + cnt, off)
        self._remove_linfo(off, cnt)
        self._remove_funcs(off, cnt)

    def _remove_linfo(self, off: int, cnt: int) -> None:
        lines = self.lines
        i = 0
        while i < len(lines) and lines[i][0] < off:
            i += 1
        l_off, l_cnt = i, 0
        while i < len(lines) and lines[i][0] < off + cnt:
            l_cnt += 1
            i += 1
        # the first live instruction inherits the last removed record when it has none of its own
        if len(self.slots) != off and l_cnt and (i == len(lines) or lines[i][0] != off + cnt):
            l_cnt -= 1
            i -= 1
            lines[i][0] = off + cnt
        del lines[l_off:l_off + l_cnt]
        for rec in lines[l_off:]:
            rec[0] -= cnt

    def _remove_funcs(self, off: int, cnt: int) -> None:
        starts = [rec[0] for rec in self.funcs]
        ends = starts[1:] + [len(self.slots) + cnt]
        keep: list[list[Any]] = []
        for rec, end in zip(self.funcs, ends):
            start = rec[0]
            if off <= start and end <= off + cnt:
                continue                           # the whole function was dead
            if start >= off + cnt:
                rec[0] -= cnt
            elif start > off:
                rec[0] = off
            keep.append(rec)
        self.funcs = keep

    def program(self, prog: Program) -> Program:
        insns = tuple(i for i in self.slots if i is not None)
        line_info = tuple(dataclasses.replace(r, pc=pc) for pc, r in self.lines)
        func_info = tuple(dataclasses.replace(f, pc=pc) for pc, f in self.funcs)
        main = next((pc for pc, _ in self.funcs[1:]), len(self.slots))
        map_refs = tuple((pc, i.imm) for pc, i in enumerate(self.slots)
                         if i is not None and i.opcode == LD_IMM64_OPCODE
                         and i.src in (PseudoLoad.MAP_FD, PseudoLoad.MAP_VALUE))
        return dataclasses.replace(prog, insns=insns, line_info=line_info, func_info=func_info, main_slots=main,
                                   map_refs=map_refs)


# --- 0. bpf_fastcall spills and fills ------------------------------------------------------------

def _fastcall_nops(img: _Image) -> None:
    """``remove_fastcall_spills_fills``: the spill/fill pairs around a call the verifier found to
    keep the bpf_fastcall contract become ``goto +0`` (removed with the other nops below)."""
    for i, aux in enumerate(img.aux):
        pairs = getattr(aux, "fastcall_spills", 0) if aux is not None else 0
        for j in range(1, pairs + 1):
            img.slots[i - j] = _JA0
            img.slots[i + j] = _JA0


# --- 1. dead code --------------------------------------------------------------------------------

def _is_cond_jump(insn: Instruction) -> bool:
    """``insn_is_cond_jump``: any JMP32 but ``gotol``; JMP but ja, call and exit."""
    if insn.cls == InsnClass.JMP32:
        return insn.jmp_op != JmpOp.JA
    return insn.cls == InsnClass.JMP and insn.jmp_op not in (JmpOp.JA, JmpOp.EXIT, JmpOp.CALL)


def _paths_cut(img: _Image) -> bool:
    """Whether our run stopped a path early (at something it does not model): a reached
    instruction none of whose successors was reached.  The kernel's `seen` marks never leave
    one (only exit ends a path), so ours would remove live code there."""
    n = len(img.slots)

    def seen(k: int) -> bool:
        return 0 <= k < n and img.seen[k]

    for i, insn in enumerate(img.slots):
        if insn is None or not img.seen[i] or insn.is_exit:
            continue
        if insn.cls in (InsnClass.JMP, InsnClass.JMP32) and insn.jmp_op == JmpOp.JA:
            ok = seen(insn.jump_target(i))
        elif _is_cond_jump(insn):
            ok = seen(i + 1) or seen(i + 1 + insn.off)
        else:
            ok = seen(i + insn.slots)
        if not ok:
            return True
    return False


def _dead_code(img: _Image) -> None:
    n = len(img.slots)
    for i, insn in enumerate(img.slots):
        if insn is None or not _is_cond_jump(insn):
            continue
        if i + 1 < n and not img.seen[i + 1]:
            img.slots[i] = _ja(insn.off)
        elif 0 <= i + 1 + insn.off < n and not img.seen[i + 1 + insn.off]:
            img.slots[i] = _JA0
    i = 0
    while i < len(img.slots):
        j = 0
        while i + j < len(img.slots) and not img.seen[i + j]:
            j += 1
        if j:
            img.remove(i, j)
        i += 1
    i = 0
    while i < len(img.slots):
        insn = img.slots[i]
        if insn == _JA0 or insn == _MAY_GOTO0:
            img.remove(i, 1)
            i -= 2 if insn == _MAY_GOTO0 and i > 0 else 1
        i += 1


# --- 2. context accesses -------------------------------------------------------------------------

class _Btf:
    """Offsets of kernel structs' members from the target BTF (``offsetof``, ``sizeof_field``)."""

    def __init__(self, spec: Spec | None) -> None:
        self.spec = spec

    def member(self, struct: str, name: str) -> tuple[int, int] | None:
        """(byte offset, byte size) of ``struct.name``, looking through anonymous members."""
        from bpfbuild.btf.types import Struct, Union

        if self.spec is None:
            return None
        for tid in self.spec.find(struct):
            t = self.spec.type(tid)
            if isinstance(t, (Struct, Union)):
                return self._find(t, name, 0)
        return None

    def _find(self, t: Any, name: str, base: int) -> tuple[int, int] | None:
        from bpfbuild.btf.types import Struct, Union

        assert self.spec is not None
        for m in t.members:
            if m.name == name:
                return base + m.bit_offset // 8, self._size(m.type)
            if not m.name:
                inner = self.spec.resolve(m.type)
                if isinstance(inner, (Struct, Union)):
                    found = self._find(inner, name, base + m.bit_offset // 8)
                    if found is not None:
                        return found
        return None

    def _size(self, type_id: int) -> int:
        from bpfbuild.btf.types import Pointer

        assert self.spec is not None
        t = self.spec.resolve(type_id)
        if isinstance(t, Pointer):
            return 8
        return int(getattr(t, "size", 8))


_SIZE_OF = {1: Size.B, 2: Size.H, 4: Size.W, 8: Size.DW}

#: struct xdp_md field -> the chain of (struct, member) loads that reads it (xdp_convert_ctx_access)
_XDP_MD = {0: (("xdp_buff", "data"),), 4: (("xdp_buff", "data_end"),), 8: (("xdp_buff", "data_meta"),),
           12: (("xdp_buff", "rxq"), ("xdp_rxq_info", "dev"), ("net_device", "ifindex")),
           16: (("xdp_buff", "rxq"), ("xdp_rxq_info", "queue_index")),
           20: (("xdp_buff", "txq"), ("xdp_txq_info", "dev"), ("net_device", "ifindex"))}
#: struct __sk_buff fields read straight from struct sk_buff (bpf_convert_ctx_access)
_SKB_PLAIN = {0: "len", 8: "mark", 16: "protocol", 32: "priority", 76: "data"}
_SKB_DATA_META, _SKB_DATA_END = 140, 80
#: program types without convert_ctx_access: their context loads stay as they are
_CTX_AS_IS = (ProgType.KPROBE, ProgType.TRACEPOINT, ProgType.RAW_TRACEPOINT, ProgType.RAW_TRACEPOINT_WRITABLE,
              ProgType.TRACING, ProgType.LSM, ProgType.EXT, ProgType.SYSCALL)
_SKB_TYPES = (ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.SOCKET_FILTER, ProgType.CGROUP_SKB,
              ProgType.LWT_IN, ProgType.LWT_OUT, ProgType.LWT_XMIT, ProgType.LWT_SEG6LOCAL, ProgType.SK_SKB)


def _convert_ctx(img: _Image, prog_type: ProgType | None, btf: _Btf, notes: list[str]) -> None:
    convert: Callable[[Instruction], list[Instruction] | None] | None
    if prog_type == ProgType.XDP:
        convert = lambda insn: _xdp_access(insn, btf)   # noqa: E731
    elif prog_type in _SKB_TYPES:
        convert = lambda insn: _skb_access(insn, btf)   # noqa: E731
    elif prog_type in _CTX_AS_IS:
        convert = None    # kprobe, tracepoints, tracing...: the context is read as it is
    else:
        convert = lambda insn: None   # noqa: E731  (a converter we do not model: noted per access)
    i = 0
    while i < len(img.slots):
        insn, aux = img.slots[i], img.aux[i]
        if insn is None or aux is None or aux.ptr_type is None or insn.cls not in (
                InsnClass.LDX, InsnClass.ST, InsnClass.STX):
            i += 1
            continue
        base = aux.ptr_type & BASE_MASK
        if base == RegType.PTR_TO_CTX and convert is not None:
            new = convert(insn) if insn.cls == InsnClass.LDX and insn.mode == Mode.MEM else None
            if new is None:
                _note(notes, f"the context access at insn {i} ({prog_type.name.lower() if prog_type else '?'} "
                      f"offset {insn.off}) is rewritten by the kernel in a way not modelled")
            else:
                i += img.patch(i, new)
        elif base == RegType.PTR_TO_PACKET and insn.cls != InsnClass.LDX and prog_type in _SKB_TYPES:
            _note(notes, "the unclone prologue of a program writing packet data")
        elif base in (RegType.PTR_TO_SOCKET, RegType.PTR_TO_SOCK_COMMON, RegType.PTR_TO_TCP_SOCK,
                      RegType.PTR_TO_XDP_SOCK):
            _note(notes, "socket field accesses (bpf_sock_convert_ctx_access)")
        i += 1


def _chain(insn: Instruction, btf: _Btf, steps: Sequence[tuple[str, str]]) -> list[Instruction] | None:
    out: list[Instruction] = []
    src = insn.src
    for struct, member in steps:
        found = btf.member(struct, member)
        if found is None or found[1] not in _SIZE_OF:
            return None
        off, size = found
        out.append(_ldx(_SIZE_OF[size], insn.dst, src, off))
        src = insn.dst
    return out


def _xdp_access(insn: Instruction, btf: _Btf) -> list[Instruction] | None:
    steps = _XDP_MD.get(insn.off)
    if steps is None or insn.access_size != 4:
        return None
    return _chain(insn, btf, steps)


def _skb_access(insn: Instruction, btf: _Btf) -> list[Instruction] | None:
    if insn.access_size != 4:
        return None
    if insn.off in (_SKB_DATA_END, _SKB_DATA_META):
        cb = btf.member("sk_buff", "cb")
        inner = btf.member("bpf_skb_data_end", "data_end" if insn.off == _SKB_DATA_END else "data_meta")
        if cb is None or inner is None:
            return None
        return [_ldx(Size.DW, insn.dst, insn.src, cb[0] + inner[0])]
    name = _SKB_PLAIN.get(insn.off)
    if name is None:
        return None
    found = btf.member("sk_buff", name)
    if found is None or found[1] not in _SIZE_OF:
        return None
    return [_ldx(_SIZE_OF[found[1]], insn.dst, insn.src, found[0])]


# --- 3. do_misc_fixups -----------------------------------------------------------------------------

def _div_mod(insn: Instruction) -> list[Instruction] | None:
    """Division and modulo by a register: 0 (and -1 when signed) cannot trap."""
    is64 = insn.cls == InsnClass.ALU64
    alu = InsnClass.ALU64 if is64 else InsnClass.ALU
    jmp = InsnClass.JMP if is64 else InsnClass.JMP32
    isdiv = insn.alu_op == AluOp.DIV
    signed = insn.off == 1
    if signed and isdiv:
        return [_ins(InsnClass.ALU64 | AluOp.MOV | Source.X, _BPF_REG_AX, insn.src),
                _ins(alu | AluOp.ADD | Source.K, _BPF_REG_AX, imm=1),
                _ins(jmp | JmpOp.JGT | Source.K, _BPF_REG_AX, off=4, imm=1),
                _ins(jmp | JmpOp.JEQ | Source.K, _BPF_REG_AX, off=1, imm=0),
                _ins(alu | AluOp.MOV | Source.K, insn.dst),
                _ins(alu | AluOp.NEG | Source.K, insn.dst),
                _ja(1), insn]
    if signed:
        out = [_ins(InsnClass.ALU64 | AluOp.MOV | Source.X, _BPF_REG_AX, insn.src),
               _ins(alu | AluOp.ADD | Source.K, _BPF_REG_AX, imm=1),
               _ins(jmp | JmpOp.JGT | Source.K, _BPF_REG_AX, off=3, imm=1),
               _ins(jmp | JmpOp.JEQ | Source.K, _BPF_REG_AX, off=3 + (0 if is64 else 1), imm=1),
               _alu32_imm(AluOp.MOV, insn.dst, 0), _ja(1), insn]
        if not is64:
            out += [_ja(1), _ins(InsnClass.ALU | AluOp.MOV | Source.X, insn.dst, insn.dst)]
        return out
    if isdiv:
        return [_ins(jmp | JmpOp.JNE | Source.K, insn.src, off=2), _ins(InsnClass.ALU | AluOp.XOR | Source.X,
                                                                        insn.dst, insn.dst), _ja(1), insn]
    out = [_ins(jmp | JmpOp.JEQ | Source.K, insn.src, off=1 + (0 if is64 else 1)), insn]
    if not is64:
        out += [_ja(1), _ins(InsnClass.ALU | AluOp.MOV | Source.X, insn.dst, insn.dst)]
    return out


def _gen_lookup(m: Any, btf: _Btf) -> tuple[list[Instruction], dict[int, str]] | None:
    """``map->ops->map_gen_lookup`` (privileged: no index masking); None: called, not inlined."""
    mtype = MapType(m.type) if m.type in MapType._value2member_map_ else None
    if m.flags & _BPF_F_INNER_MAP:
        return None
    if mtype in (MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.ARRAY_OF_MAPS):
        member = btf.member("bpf_array", "value")
        if member is None:
            return None
        base = member[0]
        if mtype == MapType.PERCPU_ARRAY:
            return [_alu64_imm(AluOp.ADD, 1, base), _ldx(Size.W, 0, 2, 0),
                    _jmp_imm(JmpOp.JGE, 0, m.max_entries, 5), _alu64_imm(AluOp.LSH, 0, 3),
                    _ins(InsnClass.ALU64 | AluOp.ADD | Source.X, 0, 1), _ldx(Size.DW, 0, 0, 0),
                    _ins(InsnClass.ALU64 | AluOp.MOV | Source.X, 0, 0, _PERCPU_OFF), _ja(1),
                    _ins(InsnClass.ALU64 | AluOp.MOV | Source.K, 0)], {}
        elem = 8 if mtype == MapType.ARRAY_OF_MAPS else (m.value_size + 7) // 8 * 8
        scale = (_alu64_imm(AluOp.LSH, 0, elem.bit_length() - 1) if elem & (elem - 1) == 0
                 else _alu64_imm(AluOp.MUL, 0, elem))
        head = [_alu64_imm(AluOp.ADD, 1, base), _ldx(Size.W, 0, 2, 0)]
        if mtype == MapType.ARRAY_OF_MAPS:
            return head + [_jmp_imm(JmpOp.JGE, 0, m.max_entries, 5), scale,
                           _ins(InsnClass.ALU64 | AluOp.ADD | Source.X, 0, 1), _ldx(Size.DW, 0, 0, 0),
                           _jmp_imm(JmpOp.JEQ, 0, 0, 1), _ja(1), _ins(InsnClass.ALU64 | AluOp.MOV | Source.K, 0)], {}
        return head + [_jmp_imm(JmpOp.JGE, 0, m.max_entries, 3), scale,
                       _ins(InsnClass.ALU64 | AluOp.ADD | Source.X, 0, 1), _ja(1),
                       _ins(InsnClass.ALU64 | AluOp.MOV | Source.K, 0)], {}
    if mtype in (MapType.HASH, MapType.LRU_HASH, MapType.PERCPU_HASH, MapType.HASH_OF_MAPS):
        key = btf.member("htab_elem", "key")
        if key is None:
            return None
        value_off = key[0] + (m.key_size + 7) // 8 * 8
        names = {0: "__htab_map_lookup_elem"}
        call = _call(_MAP_LOOKUP)
        if mtype == MapType.HASH:
            return [call, _jmp_imm(JmpOp.JEQ, 0, 0, 1), _alu64_imm(AluOp.ADD, 0, value_off)], names
        if mtype == MapType.HASH_OF_MAPS:
            return [call, _jmp_imm(JmpOp.JEQ, 0, 0, 2), _alu64_imm(AluOp.ADD, 0, value_off),
                    _ldx(Size.DW, 0, 0, 0)], names
        if mtype == MapType.PERCPU_HASH:
            return [call, _jmp_imm(JmpOp.JEQ, 0, 0, 3), _alu64_imm(AluOp.ADD, 0, value_off),
                    _ldx(Size.DW, 0, 0, 0), _ins(InsnClass.ALU64 | AluOp.MOV | Source.X, 0, 0, _PERCPU_OFF)], names
        lru = btf.member("htab_elem", "lru_node")
        ref = btf.member("bpf_lru_node", "ref")
        if lru is None or ref is None:
            return None
        at = lru[0] + ref[0]
        return [call, _jmp_imm(JmpOp.JEQ, 0, 0, 4), _ldx(Size.B, 1, 0, at), _jmp_imm(JmpOp.JNE, 1, 0, 1),
                _ins(InsnClass.ST | Mode.MEM | Size.B, 0, 0, at, 1), _alu64_imm(AluOp.ADD, 0, value_off)], {0: names[0]}
    return None


def _misc_fixups(img: _Image, maps: Sequence[Any], btf: _Btf, notes: list[str]) -> None:
    i = 0
    while i < len(img.slots):
        insn, aux = img.slots[i], img.aux[i]
        if insn is None:
            i += 1
            continue
        if insn.cls in (InsnClass.ALU, InsnClass.ALU64) and insn.alu_op in (AluOp.DIV, AluOp.MOD):
            if insn.source == Source.X:
                i += img.patch(i, _div_mod(insn) or [insn]) + 1
                continue
            if insn.off == 1 and insn.imm == -1:
                alu = insn.cls
                new = (_ins(alu | AluOp.NEG | Source.K, insn.dst) if insn.alu_op == AluOp.DIV
                       else _alu32_imm(AluOp.MOV, insn.dst, 0))
                img.patch(i, [new])
        elif insn.cls in (InsnClass.LD,) and insn.mode in (Mode.ABS, Mode.IND):
            _note(notes, "LD_ABS/LD_IND (rewritten by gen_ld_abs)")
        elif insn.cls == InsnClass.JMP and insn.jmp_op == JmpOp.JCOND:
            _note(notes, "may_goto (rewritten to a stack counter)")
        elif insn.is_helper_call:
            i += _helper(img, i, insn, aux, maps, btf, notes) + 1
            continue
        elif insn.is_kfunc_call:
            _kfunc(img, i, insn, btf, notes)
        i += 1


#: kfuncs whose call fixup_kfunc_call replaces by a copy of the argument (r0 = r1)
_KFUNC_CASTS = frozenset({"bpf_cast_to_kern_ctx", "bpf_rdonly_cast"})
#: kfuncs whose call it surrounds with hidden arguments (an object's size and struct meta...)
_KFUNC_REWRITTEN = frozenset({"bpf_obj_new_impl", "bpf_percpu_obj_new_impl", "bpf_obj_drop_impl",
                              "bpf_percpu_obj_drop_impl", "bpf_refcount_acquire_impl",
                              "bpf_list_push_back_impl", "bpf_list_push_front_impl", "bpf_rbtree_add_impl"})


def _kfunc(img: _Image, i: int, insn: Instruction, btf: _Btf, notes: list[str]) -> None:
    """``fixup_kfunc_call``: every call's immediate becomes the function's address (masked by
    whoever compares images); a few calls are rewritten."""
    from bpfbuild.btf.types import Func, FuncProto

    if insn.off:      # a module's kfunc: only its address
        return
    spec = btf.spec
    func = proto = None
    if spec is not None:
        try:
            func = spec.type(insn.imm)
            proto = spec.type(func.type) if isinstance(func, Func) else None
        except (LookupError, ValueError):
            func = None
    if not isinstance(func, Func) or not isinstance(proto, FuncProto):
        _note(notes, "a kfunc call the target's BTF does not name")
    elif func.name in _KFUNC_CASTS:
        img.patch(i, [_ins(InsnClass.ALU64 | AluOp.MOV | Source.X, 0, 1)])
    elif func.name in _KFUNC_REWRITTEN:
        _note(notes, f"{func.name} (its hidden arguments are added by fixup_kfunc_call)")
    elif any(p.name.endswith("__prog") for p in proto.params):
        _note(notes, f"{func.name} (the program's aux pointer is passed by fixup_kfunc_call)")


def _helper(img: _Image, i: int, insn: Instruction, aux: Any, maps: Sequence[Any], btf: _Btf,
            notes: list[str]) -> int:
    func = insn.imm
    if func in _NOT_MODELLED:
        _note(notes, _NOT_MODELLED[func])
        return 0
    map_index = getattr(aux, "map_index", None)
    m = maps[map_index] if map_index is not None and 0 <= map_index < len(maps) else None
    if func == _TAIL_CALL:
        # becomes the internal tail-call opcode (dumped as the call it was); a privileged program's
        # index is not masked (measured on 6.18: no bounds check is inserted, constant key or not)
        return 0
    if func in (_MAP_LOOKUP, _MAP_UPDATE, _MAP_DELETE, _MAP_PUSH, _MAP_POP, _MAP_PEEK, _REDIRECT_MAP,
                _FOR_EACH_MAP_ELEM, _MAP_LOOKUP_PERCPU):
        if m is None:
            return 0
        if func == _MAP_LOOKUP:
            gen = _gen_lookup(m, btf)
            if gen is not None:
                new, names = gen
                return img.patch(i, new, names)
        ops = _OPS_NAMES.get(MapType(m.type)) if m.type in MapType._value2member_map_ else None
        if ops is not None and func in (_MAP_LOOKUP, _MAP_UPDATE, _MAP_DELETE):
            img.names[i] = ops[func - _MAP_LOOKUP]
        return 0
    if func == _JIFFIES64:
        _note(notes, "the address of jiffies (kernel data: its value is not known offline)")
        return img.patch(i, [Instruction.ld_imm64(0, 0), _ldx(Size.DW, 0, 0, 0)])
    if func == _GET_SMP_PROCESSOR_ID:
        _note(notes, "the per-CPU address of cpu_number (kernel data: its value is not known offline)")
        return img.patch(i, [_ins(InsnClass.ALU64 | AluOp.MOV | Source.K, 0),
                             _ins(InsnClass.ALU64 | AluOp.MOV | Source.X, 0, 0, _PERCPU_OFF), _ldx(Size.W, 0, 0, 0)])
    return 0


def _note(notes: list[str], what: str) -> None:
    if what not in notes:
        notes.append(what)


# --- the entry point -----------------------------------------------------------------------------

def xlated(spec: ObjectSpec, prog: Program, *, report: Report | None = None,
           target: Target | None = None) -> Xlated:
    """``prog`` of ``spec`` as a privileged load into ``target`` (default: the running kernel)
    leaves it in the kernel.  ``report`` is our verifier's run on it (verified here if not given);
    a rejected program is returned unchanged, with a note."""
    from bpfbuild.verifier.api import verify

    if report is None or not report.aux:
        report = verify(spec, prog, target=target)
    notes: list[str] = []
    if report.rejected:
        return Xlated(prog, {}, ("the verifier rejects it: the kernel keeps no image",))
    if report.notes:
        notes.append("the verifier's run is partial (" + "; ".join(report.notes) + ")")
    if target is None:
        from bpfbuild.obj.loader import default_target

        target = default_target()
    btf = _Btf(target.btf_or_none())
    if btf.spec is None:
        notes.append("no target BTF: kernel struct offsets unknown")
    img = _Image(prog, report.aux)
    _fastcall_nops(img)
    if _paths_cut(img):
        # something our verifier could not follow (a kfunc) ended a path: the `seen` marks after
        # it are not the kernel's, and removing that code would remove live code
        notes.append("dead code not removed (the verifier stopped a path at what it does not model)")
    else:
        _dead_code(img)
    _convert_ctx(img, prog.prog_type, btf, notes)
    _misc_fixups(img, spec.maps, btf, notes)
    names = {slot: name for slot, name in enumerate(img.names) if name is not None and img.slots[slot] is not None}
    return Xlated(img.program(prog), names, tuple(notes))
