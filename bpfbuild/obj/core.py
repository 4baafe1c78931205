"""CO-RE relocations (``.BTF.ext`` core_relo records) applied against the target BTF, as libbpf does.

Facts followed (libbpf ``relo_core.c``; our own code):

* The local spec: the access string ``"0:1:2"`` walks from the root type: the first number indexes
  the root as an array, then each number is a member (struct/union) or an element (array).
  Named members are *accessors*; anonymous ones only add their offset.  Enum relocations name one
  enumerator; type relocations take ``"0"``.
* Candidates: every target type of a CO-RE-compatible kind (any two enums agree) whose *essential*
  name (without ``___flavour``) equals the local one.  A field relocation matches a candidate when
  every named accessor finds a same-named member (looking through anonymous members) of compatible
  type, and every array index fits; type relocations use :func:`types_are_compat` (or
  :func:`types_match` for TYPE_MATCHES); enum ones a same-essential-named enumerator.
* Without a target BTF nothing is relocated (libbpf would not load at all): the compiled
  offsets stay, and the report counts the relocations left as compiled.
* All matching candidates must agree (same bit offset, same result) or the object fails with
  libbpf's ambiguity error.  No match: existence relocations become 0, type relocations 0, the
  rest are *poisoned*: the instruction becomes ``call 0xbad2310`` (both halves of an ``ld_imm64``),
  which the verifier rejects as ``invalid func unknown#195896080`` if it is reachable.
* Patching: ALU ``imm``, LDX/ST/STX ``off`` (with the access size adjusted when the field's size
  changed and that is safe: pointers, unsigned integers; otherwise poisoned), ``ld_imm64`` value.
  The compiler's value is checked first where the relocation is unambiguous ("validate").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bpfbuild.abi.target import Target
from bpfbuild.btf.compat import (essential_name_len, fields_are_compat, is_any_enum, is_composite,
                                 kinds_core_compat, skip_mods, types_are_compat, types_match)
from bpfbuild.btf.ext import CoreRelo, CoreReloKind, Ext
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import Array, Enum, Enum64, Int, Struct, Union
from bpfbuild.errors import BpfBuildError, ObjectError
from bpfbuild.isa.fields import SIZE_MASK, InsnClass, JmpOp, Size, Source
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.obj.elf import ElfImage, Section
from bpfbuild.obj.spec import CoreReport, CoreResult

__all__ = ["POISON_IMM", "SPEC_MAX_LEN", "Candidates", "apply_core", "parse_local_spec", "resolve_relo", "spec_match"]

#: imm of a poisoned instruction: 0xbad2310, "bad relo".
POISON_IMM = 195896080
#: libbpf's BPF_CORE_SPEC_MAX_LEN.
SPEC_MAX_LEN = 64
_CALL = InsnClass.JMP | JmpOp.CALL
_SIZE_BYTES = {Size.B: 1, Size.H: 2, Size.W: 4, Size.DW: 8}


class _Poison(Exception):
    """libbpf's -EUCLEAN: the relocation cannot be satisfied; poison the instruction."""


@dataclass
class Accessor:
    type_id: int
    idx: int
    name: str | None


@dataclass
class CoreSpec:
    """A relocation's access path in one BTF (libbpf's ``struct bpf_core_spec``)."""

    btf: Spec
    root_type_id: int
    kind: CoreReloKind
    raw: list[int] = field(default_factory=list)
    acc: list[Accessor] = field(default_factory=list)
    bit_offset: int = 0


def _err(section: str, slot: int, message: str) -> ObjectError:
    return ObjectError(f"CO-RE relocation at insn {slot}: {message}", section=section)


def _size(btf: Spec, type_id: int) -> int:
    try:
        return btf.size_of(type_id)
    except BpfBuildError:
        return -1


def _is_flex_arr(btf: Spec, acc: Accessor | None, arr: Array) -> bool:
    if acc is None or not acc.name or arr.nelems > 0:
        return False
    t = btf.type(acc.type_id)
    return isinstance(t, Struct | Union) and acc.idx == len(t.members) - 1


def parse_local_spec(btf: Spec, relo: CoreRelo) -> CoreSpec:
    """libbpf's bpf_core_parse_spec; ValueError on a malformed access string."""
    kind = relo.kind
    spec = CoreSpec(btf, relo.type_id, kind)
    if kind.is_type:
        if relo.access != "0":
            raise ValueError(f"type relocation with access string {relo.access!r}")
        return spec
    raw = list(relo.accessors)
    if not raw:
        raise ValueError("empty access string")
    if len(raw) > SPEC_MAX_LEN:
        raise ValueError("access string too long")
    spec.raw = raw
    tid, t = skip_mods(btf, relo.type_id)
    first = raw[0]
    if kind.is_enumval:
        if not is_any_enum(t) or len(raw) > 1 or first >= len(t.values):  # type: ignore[union-attr]
            raise ValueError("enum relocation does not name an enumerator")
        spec.acc.append(Accessor(tid, first, t.values[first].name))  # type: ignore[union-attr]
        return spec
    if not kind.is_field:
        raise ValueError(f"unknown relocation kind {kind}")
    sz = _size(btf, tid)
    if sz < 0:
        raise ValueError(f"type [{tid}] has no size")
    spec.acc.append(Accessor(tid, first, None))
    spec.bit_offset = first * sz * 8
    for access in raw[1:]:
        tid, t = skip_mods(btf, tid)
        if isinstance(t, Struct | Union):
            if access >= len(t.members):
                raise ValueError(f"member {access} of [{tid}] does not exist")
            m = t.members[access]
            spec.bit_offset += m.bit_offset
            if m.name:
                spec.acc.append(Accessor(tid, access, m.name))
            tid = m.type
        elif isinstance(t, Array):
            flex = _is_flex_arr(btf, spec.acc[-1] if spec.acc else None, t)
            tid, _ = skip_mods(btf, t.type)
            if not flex and access >= t.nelems:
                raise ValueError(f"index {access} past the array's {t.nelems} elements")
            spec.acc.append(Accessor(tid, access, None))
            sz = _size(btf, tid)
            if sz < 0:
                raise ValueError(f"type [{tid}] has no size")
            spec.bit_offset += access * sz * 8
        else:
            raise ValueError(f"access {access} into [{tid}] of kind {t.kind.name}")
    return spec


# --- candidate matching ---------------------------------------------------------------------------


class Candidates:
    """Candidate search in one target BTF (libbpf's bpf_core_find_cands), cached per local type."""

    def __init__(self, targ: Spec) -> None:
        self.targ = targ
        self.cache: dict[int, list[int]] = {}

    def _by_essential_name(self, base: str) -> list[int]:
        if not base:
            return []
        return [tid for tid in self.targ.find_prefixed(base, "___")
                if essential_name_len(self.targ.name_of(tid)) == len(base)]

    def find(self, local: Spec, local_id: int) -> list[int]:
        hit = self.cache.get(local_id)
        if hit is None:
            lt = local.type(local_id)
            base = lt.name[:essential_name_len(lt.name)]
            hit = sorted(tid for tid in self._by_essential_name(base) if kinds_core_compat(self.targ.type(tid), lt))
            self.cache[local_id] = hit
        return hit


def _match_member(local: Spec, lacc: Accessor, targ: Spec, targ_id: int, spec: CoreSpec) -> tuple[int, int]:
    """libbpf's bpf_core_match_member: (found, next target type id)."""
    targ_id, tt = skip_mods(targ, targ_id)
    if not is_composite(tt):
        return 0, 0
    lt = local.type(lacc.type_id)
    assert isinstance(lt, Struct | Union)
    lm = lt.members[lacc.idx]
    for i, m in enumerate(tt.members):   # type: ignore[union-attr]
        if len(spec.raw) == SPEC_MAX_LEN:
            return -1, 0
        spec.bit_offset += m.bit_offset
        spec.raw.append(i)
        if not m.name:
            found, nxt = _match_member(local, lacc, targ, m.type, spec)
            if found:
                return found, nxt
        elif m.name == lm.name:
            spec.acc.append(Accessor(targ_id, i, m.name))
            found = fields_are_compat(local, lm.type, targ, m.type)
            if not found:
                spec.acc.pop()
            return found, m.type
        spec.bit_offset -= m.bit_offset
        spec.raw.pop()
    return 0, 0


def spec_match(lspec: CoreSpec, targ: Spec, targ_id: int) -> tuple[int, CoreSpec]:
    """libbpf's bpf_core_spec_match: 1 and the target spec, 0 (no match) or -1 (error)."""
    tspec = CoreSpec(targ, targ_id, lspec.kind)
    kind = lspec.kind
    if kind.is_type:
        if kind == CoreReloKind.TYPE_MATCHES:
            return types_match(lspec.btf, lspec.root_type_id, targ, targ_id), tspec
        return types_are_compat(lspec.btf, lspec.root_type_id, targ, targ_id), tspec
    lacc0 = lspec.acc[0]
    if kind.is_enumval:
        targ_id, tt = skip_mods(targ, targ_id)
        if not is_any_enum(tt):
            return 0, tspec
        assert lacc0.name is not None
        n = essential_name_len(lacc0.name)
        for i, v in enumerate(tt.values):   # type: ignore[union-attr]
            if essential_name_len(v.name) == n and v.name[:n] == lacc0.name[:n]:
                tspec.acc.append(Accessor(targ_id, i, v.name))
                tspec.raw.append(i)
                return 1, tspec
        return 0, tspec
    for i, lacc in enumerate(lspec.acc):
        targ_id, tt = skip_mods(targ, targ_id)
        if lacc.name:
            found, targ_id = _match_member(lspec.btf, lacc, targ, targ_id, tspec)
            if found <= 0:
                return found, tspec
        else:
            if i > 0:
                if not isinstance(tt, Array):
                    return 0, tspec
                flex = _is_flex_arr(targ, tspec.acc[-1] if tspec.acc else None, tt)
                if not flex and lacc.idx >= tt.nelems:
                    return 0, tspec
                targ_id, _ = skip_mods(targ, tt.type)
            if len(tspec.raw) == SPEC_MAX_LEN:
                return -1, tspec
            tspec.acc.append(Accessor(targ_id, lacc.idx, None))
            tspec.raw.append(lacc.idx)
            sz = _size(targ, targ_id)
            if sz < 0:
                return -1, tspec
            tspec.bit_offset += lacc.idx * sz * 8
    return 1, tspec


_KIND_STR = {CoreReloKind.FIELD_BYTE_OFFSET: "byte_off", CoreReloKind.FIELD_BYTE_SIZE: "byte_sz",
             CoreReloKind.FIELD_EXISTS: "field_exists", CoreReloKind.FIELD_SIGNED: "signed",
             CoreReloKind.FIELD_LSHIFT_U64: "lshift_u64", CoreReloKind.FIELD_RSHIFT_U64: "rshift_u64",
             CoreReloKind.TYPE_ID_LOCAL: "local_type_id", CoreReloKind.TYPE_ID_TARGET: "target_type_id",
             CoreReloKind.TYPE_EXISTS: "type_exists", CoreReloKind.TYPE_MATCHES: "type_matches",
             CoreReloKind.TYPE_SIZE: "type_size", CoreReloKind.ENUMVAL_EXISTS: "enumval_exists",
             CoreReloKind.ENUMVAL_VALUE: "enumval_value"}


def format_spec(spec: CoreSpec) -> str:
    """A local spec as libbpf prints it (``bpf_core_format_spec``), e.g.
    ``<byte_off> [17] struct data.a (0:0 @ offset 0)``: libbpf's log names a poisoned relocation so."""
    t = spec.btf.type(spec.root_type_id)
    kind = "void" if t is None else t.kind.name.lower()
    out = f"<{_KIND_STR.get(spec.kind, 'unknown')}> [{spec.root_type_id}] {kind} {getattr(t, 'name', '') or '<anon>'}"
    if spec.kind.is_type:
        return out
    if spec.kind.is_enumval:
        _, et = skip_mods(spec.btf, spec.root_type_id)
        if spec.raw and is_any_enum(et):
            v = et.values[spec.raw[0]]  # type: ignore[union-attr]
            out += f"::{v.name} = {v.value}"
        return out
    for i, acc in enumerate(spec.acc):
        if acc.name:
            out += f".{acc.name}"
        elif i > 0 or acc.idx > 0:
            out += f"[{acc.idx}]"
    raw = ":".join(str(x) for x in spec.raw)
    byte, bit = divmod(spec.bit_offset, 8)
    return out + f" ({raw} @ offset {byte}.{bit})" if bit else out + f" ({raw} @ offset {byte})"


# --- values -------------------------------------------------------------------------------------------


@dataclass
class _Res:
    orig: int = 0
    new: int = 0
    poison: bool = False
    validate: bool = True
    fail_memsz_adjust: bool = False
    orig_sz: int = 0
    new_sz: int = 0
    orig_type_id: int = 0
    new_type_id: int = 0


class _Fail(Exception):
    """A relocation libbpf refuses (the load fails): the message."""


def _field_value(kind: CoreReloKind, spec: CoreSpec | None, want_validate: bool) -> tuple[int, int, int, bool]:
    """libbpf's bpf_core_calc_field_relo: (value, field size, field type id, validate)."""
    if kind == CoreReloKind.FIELD_EXISTS:
        return (1 if spec else 0), 0, 0, True
    if spec is None:
        raise _Poison()
    btf = spec.btf
    acc = spec.acc[-1]
    if acc.name is None:   # an array element: only offset and size make sense
        sz = _size(btf, acc.type_id)
        if sz < 0:
            raise _Fail(f"type [{acc.type_id}] has no size")
        if kind == CoreReloKind.FIELD_BYTE_OFFSET:
            return spec.bit_offset // 8, sz, acc.type_id, True
        if kind == CoreReloKind.FIELD_BYTE_SIZE:
            return sz, 0, 0, True
        raise _Fail("relocation can't be applied to array access")
    t = btf.type(acc.type_id)
    assert isinstance(t, Struct | Union)
    m = t.members[acc.idx]
    field_type_id, mt = skip_mods(btf, m.type)
    bit_off = spec.bit_offset
    bit_sz = m.bitfield_size
    bitfield = bit_sz > 0
    if bitfield:
        byte_sz = getattr(mt, "size", 0)
        if byte_sz <= 0:
            raise _Fail(f"bitfield of type [{field_type_id}] has no size")
        byte_off = bit_off // 8 // byte_sz * byte_sz
        while bit_off + bit_sz - byte_off * 8 > byte_sz * 8:
            if byte_sz >= 8:
                raise _Fail("relocation can't be satisfied for bitfield")
            byte_sz *= 2
            byte_off = bit_off // 8 // byte_sz * byte_sz
    else:
        byte_sz = _size(btf, field_type_id)
        if byte_sz < 0:
            raise _Fail(f"type [{field_type_id}] has no size")
        byte_off = bit_off // 8
        bit_sz = byte_sz * 8
    validate = not bitfield
    field_sz, ftype = 0, 0
    if kind == CoreReloKind.FIELD_BYTE_OFFSET:
        val = byte_off
        if not bitfield:
            field_sz, ftype = byte_sz, field_type_id
    elif kind == CoreReloKind.FIELD_BYTE_SIZE:
        val = byte_sz
    elif kind == CoreReloKind.FIELD_SIGNED:
        val = int((is_any_enum(mt) and mt.signed) or (isinstance(mt, Int) and mt.signed))  # type: ignore[union-attr]
        validate = True
    elif kind == CoreReloKind.FIELD_LSHIFT_U64:
        val = 64 - (bit_off + bit_sz - byte_off * 8)
    elif kind == CoreReloKind.FIELD_RSHIFT_U64:
        val = 64 - bit_sz
        validate = True
    else:
        raise _Fail(f"unrecognized CO-RE relocation {kind.label} ({int(kind)})")
    return val, field_sz, ftype, validate


def _type_value(kind: CoreReloKind, spec: CoreSpec | None) -> int:
    if spec is None:
        return 0
    if kind == CoreReloKind.TYPE_ID_TARGET or kind == CoreReloKind.TYPE_ID_LOCAL:
        return spec.root_type_id
    if kind in (CoreReloKind.TYPE_EXISTS, CoreReloKind.TYPE_MATCHES):
        return 1
    if kind == CoreReloKind.TYPE_SIZE:
        sz = _size(spec.btf, spec.root_type_id)
        if sz < 0:
            raise _Fail(f"type [{spec.root_type_id}] has no size")
        return sz
    raise _Fail(f"unrecognized CO-RE relocation {kind.label} ({int(kind)})")


def _enum_value(kind: CoreReloKind, spec: CoreSpec | None) -> int:
    if kind == CoreReloKind.ENUMVAL_EXISTS:
        return 1 if spec else 0
    if spec is None:
        raise _Poison()
    t = spec.btf.type(spec.acc[0].type_id)
    v = t.values[spec.acc[0].idx].value  # type: ignore[union-attr]
    if isinstance(t, Enum):   # a 32-bit enumerator is an s32 widened to 64 bits
        v &= 0xFFFFFFFF
        v = v - (1 << 32) if v & 0x80000000 else v
    return v % (1 << 64)


def _calc(kind: CoreReloKind, local: CoreSpec, targ: CoreSpec | None) -> _Res:
    """libbpf's bpf_core_calc_relo."""
    res = _Res()
    try:
        if kind.is_field:
            res.orig, res.orig_sz, res.orig_type_id, res.validate = _field_value(kind, local, True)
            res.new, res.new_sz, res.new_type_id, _ = _field_value(kind, targ, False)
            if res.orig_sz != res.new_sz and targ is not None:
                ot, nt = local.btf.type(res.orig_type_id), targ.btf.type(res.new_type_id)
                both_ptr = ot.kind == nt.kind and ot.kind.name == "PTR"
                both_uint = isinstance(ot, Int) and isinstance(nt, Int) and not ot.signed and not nt.signed
                if not (both_ptr or both_uint):
                    res.fail_memsz_adjust = True
        elif kind.is_type:
            res.orig = _type_value(kind, local)
            res.new = _type_value(kind, targ)
            # a type id in the instruction may have changed when objects were linked: not checked
            res.validate = kind != CoreReloKind.TYPE_ID_TARGET
        else:
            res.orig = _enum_value(kind, local)
            res.new = _enum_value(kind, targ)
    except _Poison:
        res.poison = True
    return res


# --- patching -------------------------------------------------------------------------------------------


def _poisoned() -> Instruction:
    return Instruction(_CALL, 0, 0, 0, POISON_IMM, 0)


def _patch(insn: Instruction, res: _Res) -> list[Instruction]:
    """libbpf's bpf_core_patch_insn: the replacement instruction(s); _Fail on a mismatch."""
    if res.poison:
        return [_poisoned(), _poisoned()] if insn.opcode == LD_IMM64_OPCODE else [_poisoned()]
    cls = insn.cls
    new = res.new
    if cls in (InsnClass.ALU, InsnClass.ALU64):
        if insn.source == Source.X:
            raise _Fail("relocated ALU instruction does not take an immediate")
        if res.validate and insn.imm % (1 << 64) != res.orig % (1 << 64):
            raise _Fail(f"unexpected insn (ALU/ALU64) value: got {insn.imm % (1 << 32)}, exp {res.orig} -> {new}")
        return [Instruction(insn.opcode, insn.dst, insn.src, insn.off, _s32(new), insn.imm_hi)]
    if cls in (InsnClass.LDX, InsnClass.ST, InsnClass.STX):
        if res.validate and insn.off % (1 << 64) != res.orig % (1 << 64):
            raise _Fail(f"unexpected insn (LDX/ST/STX) value: got {insn.off}, exp {res.orig} -> {new}")
        if new > 0x7FFF:
            raise _Fail(f"insn (LDX/ST/STX) value too big: {new}")
        if res.fail_memsz_adjust:
            return [_poisoned()]
        opcode = insn.opcode
        if res.new_sz != res.orig_sz:
            have = _SIZE_BYTES.get(insn.size, 0)
            if have != res.orig_sz:
                raise _Fail(f"insn (LDX/ST/STX) unexpected mem size: got {have}, exp {res.orig_sz}")
            want = {v: k for k, v in _SIZE_BYTES.items()}.get(res.new_sz)
            if want is None:
                raise _Fail(f"insn (LDX/ST/STX) invalid new mem size: {res.new_sz}")
            opcode = (opcode & ~SIZE_MASK) | int(want)
        return [Instruction(opcode, insn.dst, insn.src, new, insn.imm, insn.imm_hi)]
    if insn.opcode == LD_IMM64_OPCODE:
        if insn.src != 0 or insn.off != 0:
            raise _Fail("insn (LDIMM64) has unexpected form")
        old = (insn.imm % (1 << 32)) | ((insn.imm_hi % (1 << 32)) << 32)
        if res.validate and old != res.orig % (1 << 64):
            raise _Fail(f"unexpected insn (LDIMM64) value: got {old}, exp {res.orig} -> {new}")
        return [Instruction.ld_imm64(insn.dst, new % (1 << 64))]
    raise _Fail(f"trying to relocate unrecognized insn, code:{insn.opcode:#x}, src:{insn.src:#x}, "
                f"dst:{insn.dst:#x}, off:{insn.off:#x}, imm:{insn.imm % (1 << 32):#x}")


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


# --- driver ---------------------------------------------------------------------------------------------


def resolve_relo(local: Spec, relo: CoreRelo, targ: Spec | None,
                 cands_cache: Candidates | None) -> tuple[_Res, int]:
    """libbpf's bpf_core_calc_relo_insn: the result and the chosen target root id (0: none)."""
    lt = local.type(relo.type_id)
    try:
        lspec = parse_local_spec(local, relo)
    except (ValueError, BpfBuildError) as exc:
        raise _Fail(f"parsing [{relo.type_id}] {lt.kind.name.lower()} {lt.name} + {relo.access} failed: {exc}") \
            from None
    if relo.kind == CoreReloKind.TYPE_ID_LOCAL:   # no candidates; the instruction's id is not checked
        return _Res(relo.type_id, relo.type_id, validate=False), relo.type_id
    if not lt.name:
        raise _Fail(f"<{relo.kind.label}> ({int(relo.kind)}) relocation doesn't support anonymous types")
    cands: list[int] = []
    if targ is not None and cands_cache is not None:
        cands = cands_cache.find(local, relo.type_id)
    chosen: tuple[_Res, CoreSpec] | None = None
    kept = []
    for cid in cands:
        assert targ is not None
        ok, tspec = spec_match(lspec, targ, cid)
        if ok < 0:
            raise _Fail(f"error matching candidate [{cid}] {targ.name_of(cid)}")
        if ok == 0:
            continue
        res = _calc(relo.kind, lspec, tspec)
        if chosen is None:
            chosen = (res, tspec)
        else:
            if tspec.bit_offset != chosen[1].bit_offset:
                raise _Fail(f"field offset ambiguity: {tspec.bit_offset} != {chosen[1].bit_offset}")
            if res.poison != chosen[0].poison or res.new != chosen[0].new:
                raise _Fail(f"relocation decision ambiguity: {'failure' if chosen[0].poison else 'success'} "
                            f"{chosen[0].new} != {'failure' if res.poison else 'success'} {res.new}")
        kept.append(cid)
    if kept and cands_cache is not None:
        cands_cache.cache[relo.type_id] = kept
    if chosen is None:
        return _calc(relo.kind, lspec, None), 0
    return chosen[0], chosen[1].root_type_id


def apply_core(img: ElfImage, local: Spec, ext: Ext, target: Target,
               section_insns: Callable[[Section], tuple[tuple[Instruction, ...], list[int]]],
               ) -> tuple[dict[int, tuple[Instruction, ...]], CoreReport]:
    """Every code section with relocations, patched; and what was done (for `bpfbuild show`).

    A target without BTF (nothing readable, no file configured) leaves the instructions as
    compiled: libbpf would refuse to load at all, and the compiled offsets (those of the headers
    the program was built with) are the best an offline reader can offer.  The report says so.
    """
    targ = target.btf_or_none()
    if targ is None:
        count = sum(len(r) for r in ext.core_relos.values())
        return {}, CoreReport(None, (), unapplied=count)
    cache = Candidates(targ) if targ is not None else None
    patched: dict[int, tuple[Instruction, ...]] = {}
    results: list[CoreResult] = []
    for sec_name, relos in ext.core_relos.items():
        if not relos:
            continue
        sec = img.section(sec_name)
        if sec is None or not sec.executable:
            raise ObjectError(f"CO-RE relocations for {sec_name!r}, which is not a code section", section=".BTF.ext")
        insns, slots = section_insns(sec)
        index = {s: i for i, s in enumerate(slots)}
        replaced: dict[int, list[Instruction]] = {}
        for relo in relos:
            i = index.get(relo.slot)
            if i is None:
                raise _err(sec_name, relo.slot, "not at an instruction boundary")
            insn = insns[i]
            lt = local.type(relo.type_id)
            try:
                res, tid = resolve_relo(local, relo, targ, cache)
                new = _patch(insn, res)
            except _Fail as exc:
                raise _err(sec_name, relo.slot, f"[{relo.type_id}] {lt.name or '(anon)'} + {relo.access} "
                           f"({relo.kind.label}): {exc}") from None
            replaced[i] = new
            described = ""
            if res.poison:
                try:
                    described = format_spec(parse_local_spec(local, relo))
                except (ValueError, BpfBuildError, KeyError, IndexError):
                    described = ""
            results.append(CoreResult(sec_name, relo.slot, relo.kind.label, lt.name, relo.access, res.orig,
                                      res.new, res.poison, tid, described))
        out: list[Instruction] = []
        for i, insn in enumerate(insns):
            out.extend(replaced.get(i, (insn,)))
        patched[sec.index] = tuple(out)
    return patched, CoreReport(target.btf_path, tuple(results))
