"""The table of valid instructions, derived from the opcode field enums.

A :class:`Form` is one valid instruction shape: an opcode byte plus the values that the
other fields must hold (a reserved zero, or a *discriminator* such as ``off=1`` for
signed division, ``imm=16`` for ``be16``, ``src=1`` for a bpf-to-bpf call).  Fields that
are operands are ``None`` in the form.  Several forms can share an opcode byte; the
fields that tell them apart are the opcode's discriminator (see :class:`OpcodeEntry`).

Nothing here is a hand-typed row: :func:`opcode_table` walks the enums of
:mod:`bpfbuild.isa.fields` and applies the rules of RFC 9669 and the Linux 6.18
verifier (``check_alu_fields``, ``check_jmp_fields``, ``check_insn_fields``,
``check_atomic``, ``bpf_opcode_in_insntable``).  Deliberate differences from the kernel:

* ``callx`` (``JMP|CALL|X``, target register in ``dst`` as LLVM encodes it) is accepted;
  the kernel rejects it.
* ``exit`` must have ``off == 0`` (the kernel ignores ``off``; our text could not show it).
* ``load_acquire`` / ``store_release`` (6.15) and the indirect ``gotox`` are not known.
* Value rules (shift counts, division by an immediate zero, ``imm_hi`` of map loads)
  belong to the verifier, not to the table.

Each form also carries its text templates, in both dialects (see :mod:`bpfbuild.isa.syntax`
for the placeholders): ``syntax`` is llvm-objdump's, ``log`` the kernel verifier log's
(kernel/bpf/disasm.c), so the same table drives decoding, both disassemblies and assembly.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bpfbuild.isa.fields import (
    ATOMIC_FETCH,
    AluOp,
    AtomicOp,
    CpuVersion,
    Endian,
    InsnClass,
    JmpOp,
    Mode,
    PseudoCall,
    PseudoLoad,
    Size,
    Source,
)

__all__ = [
    "FIELDS",
    "Form",
    "MAX_REG",
    "OpcodeEntry",
    "OpcodeTable",
    "describe_opcode",
    "opcode_table",
]

#: The instruction fields a form constrains, in the order of :attr:`Form.fixed`.
FIELDS = ("dst", "src", "off", "imm")

#: Highest register number (r10, the read-only frame pointer).
MAX_REG = 10


@dataclass(frozen=True, slots=True)
class Form:
    """One valid instruction shape.

    ``dst``/``src``/``off``/``imm`` hold the value the field must have, or ``None`` when
    the field is an operand (any register 0..10, any s16 / s32).  ``syntax`` is the text
    template (llvm-objdump's), ``log`` the kernel log's.  ``slots`` is 2 for ``ld_imm64`` (whose second slot is not described here:
    the codec requires its code, registers and offset to be zero).
    """

    name: str
    opcode: int
    dst: int | None
    src: int | None
    off: int | None
    imm: int | None
    syntax: str
    cpu: CpuVersion
    slots: int = 1
    log: str = ""

    @property
    def cls(self) -> InsnClass:
        return InsnClass(self.opcode & 0x07)

    @property
    def fixed(self) -> tuple[int | None, int | None, int | None, int | None]:
        """``(dst, src, off, imm)`` constraints, ``None`` for operands."""
        return (self.dst, self.src, self.off, self.imm)

    def accepts(self, dst: int, src: int, off: int, imm: int) -> bool:
        """True if the four fields satisfy this form (registers range-checked too)."""
        for want, have in zip(self.fixed, (dst, src, off, imm), strict=True):
            if want is not None and want != have:
                return False
        return 0 <= dst <= MAX_REG and 0 <= src <= MAX_REG

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class OpcodeEntry:
    """All forms of one opcode byte and the fields that discriminate between them.

    ``disc`` names the discriminating fields (a subset of :data:`FIELDS`, empty when the
    opcode has a single form); ``by_key`` maps their values (a bare int for one field, a
    tuple for several) to the form.
    """

    opcode: int
    forms: tuple[Form, ...]
    disc: tuple[str, ...]
    by_key: Mapping[object, Form]
    key: Callable[[tuple[int, int, int, int]], object] = field(repr=False, compare=False)

    def select(self, dst: int, src: int, off: int, imm: int) -> Form | None:
        """The form whose discriminator matches (its reserved fields are not checked)."""
        if not self.disc:
            return self.forms[0]
        return self.by_key.get(self.key((dst, src, off, imm)))


@dataclass(frozen=True, slots=True)
class OpcodeTable:
    """Every valid form, indexed by opcode byte and by name."""

    forms: tuple[Form, ...]
    entries: tuple[OpcodeEntry | None, ...]
    by_name: Mapping[str, Form]

    def entry(self, opcode: int) -> OpcodeEntry | None:
        return self.entries[opcode] if 0 <= opcode <= 0xFF else None

    def lookup(self, opcode: int, dst: int, src: int, off: int, imm: int) -> Form | None:
        """The form that these field values make, or ``None`` if they are not valid."""
        entry = self.entry(opcode)
        if entry is None:
            return None
        form = entry.select(dst, src, off, imm)
        if form is None or not form.accepts(dst, src, off, imm):
            return None
        return form

    def explain(self, opcode: int, dst: int, src: int, off: int, imm: int) -> str | None:
        """Why the field values are not a valid instruction (``None`` if they are)."""
        entry = self.entry(opcode)
        if entry is None:
            return f"unknown opcode {opcode:#04x} ({describe_opcode(opcode)})"
        values = dict(zip(FIELDS, (dst, src, off, imm), strict=True))
        form = entry.select(dst, src, off, imm)
        what = describe_opcode(opcode)
        if form is None:
            got = ", ".join(f"{name}={values[name]}" for name in entry.disc)
            allowed = sorted({_key_text(entry.disc, f) for f in entry.forms})
            return f"{what}: invalid {got} (valid: {'; '.join(allowed)})"
        for name, want in zip(FIELDS, form.fixed, strict=True):
            if want is not None and values[name] != want:
                return f"{what} uses reserved fields: {name} must be {want}, not {values[name]}"
        for name in ("dst", "src"):
            if not 0 <= values[name] <= MAX_REG:
                return f"{what}: invalid register r{values[name]} in {name}"
        return None

    def __iter__(self) -> Iterator[Form]:
        return iter(self.forms)

    def __len__(self) -> int:
        return len(self.forms)


def _key_text(disc: tuple[str, ...], form: Form) -> str:
    return ", ".join(f"{name}={getattr(form, name)}" for name in disc)


def describe_opcode(opcode: int) -> str:
    """The opcode byte as its fields, e.g. ``ALU64|MOV|X`` or ``STX|ATOMIC|DW``."""
    cls = InsnClass(opcode & 0x07)
    if cls in (InsnClass.ALU, InsnClass.ALU64, InsnClass.JMP, InsnClass.JMP32):
        ops: type[AluOp | JmpOp] = AluOp if cls in (InsnClass.ALU, InsnClass.ALU64) else JmpOp
        return f"{cls.name}|{_member_name(ops, opcode & 0xF0)}|{Source(opcode & 0x08).name}"
    return f"{cls.name}|{_member_name(Mode, opcode & 0xE0)}|{Size(opcode & 0x18).name}"


def _member_name(enum: type[AluOp | JmpOp | Mode], value: int) -> str:
    try:
        return enum(value).name
    except ValueError:
        return f"{value:#04x}"


# --- derivation -------------------------------------------------------------------------

_ALU_SYMBOL = {
    AluOp.ADD: "+", AluOp.SUB: "-", AluOp.MUL: "*", AluOp.DIV: "/", AluOp.OR: "|",
    AluOp.AND: "&", AluOp.LSH: "<<", AluOp.RSH: ">>", AluOp.MOD: "%", AluOp.XOR: "^",
    AluOp.ARSH: "s>>",
}
_SIGNED_ALU = {AluOp.DIV: ("SDIV", "s/"), AluOp.MOD: ("SMOD", "s%")}
_JMP_SYMBOL = {
    JmpOp.JEQ: "==", JmpOp.JGT: ">", JmpOp.JGE: ">=", JmpOp.JSET: "&", JmpOp.JNE: "!=",
    JmpOp.JSGT: "s>", JmpOp.JSGE: "s>=", JmpOp.JLT: "<", JmpOp.JLE: "<=", JmpOp.JSLT: "s<",
    JmpOp.JSLE: "s<=",
}
_JMP_V2 = {JmpOp.JLT, JmpOp.JLE, JmpOp.JSLT, JmpOp.JSLE}
_MEM_TYPE = {Size.B: "u8", Size.H: "u16", Size.W: "u32", Size.DW: "u64"}
_SX_TYPE = {Size.B: "s8", Size.H: "s16", Size.W: "s32"}
_ATOMIC_SYMBOL = {AtomicOp.ADD: "+", AtomicOp.OR: "|", AtomicOp.AND: "&", AtomicOp.XOR: "^"}
_END_WIDTHS = (16, 32, 64)
_MOVSX_BITS = {InsnClass.ALU: (8, 16), InsnClass.ALU64: (8, 16, 32)}
#: ``addr_space_cast`` immediates the kernel accepts: (dst address space << 16) | src space.
_CAST_IMMS = (1, 1 << 16)


def _opcode(*parts: int) -> int:
    return functools.reduce(operator.or_, parts, 0)


def _alu_forms() -> Iterator[Form]:
    for cls in (InsnClass.ALU, InsnClass.ALU64):
        wide = cls is InsnClass.ALU64
        rd, rs = ("{rd}", "{rs}") if wide else ("{wd}", "{ws}")
        for op in AluOp:
            log_operand = {Source.K: "{imm}", Source.X: rs}
            for source in Source:
                code = _opcode(cls, op, source)
                base = f"{cls.name}_{op.name}_{source.name}"
                operand = "{imm}" if source is Source.K else rs
                src = 0 if source is Source.K else None
                imm = None if source is Source.K else 0
                if op in _ALU_SYMBOL:
                    yield Form(base, code, None, src, 0, imm, f"{rd} {_ALU_SYMBOL[op]}= {operand}",
                               CpuVersion.V1, log=f"{rd} {_ALU_SYMBOL[op]}= {log_operand[source]}")
                    if op in _SIGNED_ALU:
                        name, symbol = _SIGNED_ALU[op]
                        yield Form(f"{cls.name}_{name}_{source.name}", code, None, src, 1, imm,
                                   f"{rd} {symbol}= {operand}", CpuVersion.V4,
                                   log=f"{rd} {symbol}= {log_operand[source]}")
                elif op is AluOp.NEG and source is Source.K:
                    yield Form(base, code, None, 0, 0, 0, f"{rd} = -{rd}", CpuVersion.V1,
                               log=f"{rd} = -{rd}")
                elif op is AluOp.MOV:
                    yield Form(base, code, None, src, 0, imm, f"{rd} = {operand}", CpuVersion.V1,
                               log=f"{rd} = {log_operand[source]}")
                    if source is Source.X:
                        for bits in _MOVSX_BITS[cls]:
                            yield Form(f"{cls.name}_MOVSX{bits}_X", code, None, None, bits, 0,
                                       f"{rd} = (s{bits}){rs}", CpuVersion.V4, log=f"{rd} = (s{bits}){rs}")
                        if wide:
                            for imm_value in _CAST_IMMS:
                                to_as, from_as = imm_value >> 16, imm_value & 0xFFFF
                                text = f"{{rd}} = addr_space_cast({{rs}}, {to_as}, {from_as})"
                                yield Form(f"ALU64_ADDR_SPACE_CAST_{from_as}_TO_{to_as}", code,
                                           None, None, 1, imm_value, text, CpuVersion.V4, log=text)
                elif op is AluOp.END:
                    if wide and source is not Source.K:
                        continue
                    for width in _END_WIDTHS:
                        if wide:
                            text = f"{{rd}} = bswap{width} {{rd}}"
                            yield Form(f"ALU64_BSWAP{width}", code, None, 0, 0, width,
                                       text, CpuVersion.V4, log=text)
                        else:
                            endian = Endian(source.value)
                            text = f"{{rd}} = {endian.name.lower()}{width} {{rd}}"
                            # the kernel log names the register r even in the 32-bit class
                            yield Form(f"ALU_END_{endian.name}{width}", code, None, 0, 0, width,
                                       text, CpuVersion.V1, log=text)


def _jmp_forms() -> Iterator[Form]:
    for cls in (InsnClass.JMP, InsnClass.JMP32):
        wide = cls is InsnClass.JMP
        rd, rs = ("{rd}", "{rs}") if wide else ("{wd}", "{ws}")
        for op in JmpOp:
            for source in Source:
                code = _opcode(cls, op, source)
                if op in _JMP_SYMBOL:
                    cpu = CpuVersion.V3 if not wide else (CpuVersion.V2 if op in _JMP_V2 else CpuVersion.V1)
                    if source is Source.K:
                        yield Form(f"{cls.name}_{op.name}_K", code, None, 0, None, None,
                                   f"if {rd} {_JMP_SYMBOL[op]} {{imm}} goto {{joff}}", cpu,
                                   log=f"if {rd} {_JMP_SYMBOL[op]} {{ximm}} goto pc{{joff}}")
                    else:
                        yield Form(f"{cls.name}_{op.name}_X", code, None, None, None, 0,
                                   f"if {rd} {_JMP_SYMBOL[op]} {rs} goto {{joff}}", cpu,
                                   log=f"if {rd} {_JMP_SYMBOL[op]} {rs} goto pc{{joff}}")
                elif op is JmpOp.JA and source is Source.K:
                    if wide:
                        yield Form("JMP_JA", code, 0, 0, None, 0, "goto {joff}", CpuVersion.V1,
                                   log="goto pc{joff}")
                    else:
                        yield Form("JMP32_JA", code, 0, 0, 0, None, "gotol {jimm}", CpuVersion.V4,
                                   log="gotol pc{jimm}")
                elif op is JmpOp.CALL and wide:
                    if source is Source.X:
                        yield Form("JMP_CALLX", code, None, 0, 0, 0, "callx {rd}", CpuVersion.V4,
                                   log="callx {rd}")
                        continue
                    for kind in PseudoCall:
                        yield Form(_CALL_NAME[kind], code, 0, int(kind),
                                   None if kind is PseudoCall.KFUNC else 0, None,
                                   _CALL_SYNTAX[kind], CpuVersion.V1, log=_CALL_LOG[kind])
                elif op is JmpOp.EXIT and wide and source is Source.K:
                    yield Form("JMP_EXIT", code, 0, 0, 0, 0, "exit", CpuVersion.V1, log="exit")
                elif op is JmpOp.JCOND and wide and source is Source.K:
                    yield Form("JMP_MAY_GOTO", code, 0, 0, None, 0, "may_goto {joff}", CpuVersion.V4,
                               log="may_goto pc{joff}")


_CALL_NAME = {
    PseudoCall.HELPER: "JMP_CALL_HELPER",
    PseudoCall.CALL: "JMP_CALL_SUBPROG",
    PseudoCall.KFUNC: "JMP_CALL_KFUNC",
}
_CALL_SYNTAX = {
    PseudoCall.HELPER: "call {imm}",
    PseudoCall.CALL: "call pc{jimm}",
    PseudoCall.KFUNC: "call kfunc {imm}{koff}",
}
#: The kernel log names a helper through a callback (``{helper}``, default ``unknown``).
_CALL_LOG = {
    PseudoCall.HELPER: "call {helper}#{imm}",
    PseudoCall.CALL: "call pc{jimm}",
    PseudoCall.KFUNC: "call kernel-function#{imm}",
}


def _load_store_forms() -> Iterator[Form]:
    for cls in (InsnClass.LD, InsnClass.LDX, InsnClass.ST, InsnClass.STX):
        for mode in Mode:
            for size in Size:
                code = _opcode(cls, mode, size)
                base = f"{cls.name}_{mode.name}_{size.name}"
                ctype = _MEM_TYPE[size]
                match cls, mode:
                    case InsnClass.LD, Mode.IMM if size is Size.DW:
                        for pseudo in PseudoLoad:
                            if pseudo is PseudoLoad.IMM64:
                                yield Form("LD_IMM64", code, None, 0, 0, None, "{rd} = {imm64} ll",
                                           CpuVersion.V1, slots=2, log="{rd} = {ld64}")
                            else:
                                yield Form(f"LD_IMM64_{pseudo.name}", code, None, int(pseudo), 0, None,
                                           f"ld_pseudo {{rd}}, {pseudo.value}, {{uimm64}}",
                                           CpuVersion.V1, slots=2, log="{rd} = {ld64}")
                    case InsnClass.LD, Mode.ABS if size is not Size.DW:
                        yield Form(base, code, 0, 0, 0, None, f"r0 = *({ctype} *)skb[{{imm}}]",
                                   CpuVersion.V1, log=f"r0 = *({ctype} *)skb[{{imm}}]")
                    case InsnClass.LD, Mode.IND if size is not Size.DW:
                        yield Form(base, code, 0, None, 0, None,
                                   f"r0 = *({ctype} *)skb[{{rs}}{{mimm}}]", CpuVersion.V1,
                                   log=f"r0 = *({ctype} *)skb[{{rs}} + {{imm}}]")
                    case InsnClass.LDX, Mode.MEM:
                        yield Form(base, code, None, None, None, 0,
                                   f"{{vd}} = *({ctype} *)({{rs}}{{moff}})", CpuVersion.V1,
                                   log=f"{{rd}} = *({ctype} *)({{rs}} {{soff}})")
                    case InsnClass.LDX, Mode.MEMSX if size in _SX_TYPE:
                        yield Form(base, code, None, None, None, 0,
                                   f"{{vd}} = *({_SX_TYPE[size]} *)({{rs}}{{moff}})", CpuVersion.V4,
                                   log=f"{{rd}} = *({_SX_TYPE[size]} *)({{rs}} {{soff}})")
                    case InsnClass.ST, Mode.MEM:
                        yield Form(base, code, None, 0, None, None,
                                   f"*({ctype} *)({{rd}}{{moff}}) = {{imm}}", CpuVersion.V1,
                                   log=f"*({ctype} *)({{rd}} {{soff}}) = {{imm}}")
                    case InsnClass.STX, Mode.MEM:
                        yield Form(base, code, None, None, None, 0,
                                   f"*({ctype} *)({{rd}}{{moff}}) = {{vs}}", CpuVersion.V1,
                                   log=f"*({ctype} *)({{rd}} {{soff}}) = {{rs}}")
                    case InsnClass.STX, Mode.ATOMIC if size in (Size.W, Size.DW):
                        yield from _atomic_forms(code, size)


def _atomic_forms(code: int, size: Size) -> Iterator[Form]:
    wide = size is Size.DW
    ctype = _MEM_TYPE[size]
    val = "{vs}" if wide else "{vws}"
    prefix = f"STX_ATOMIC_{size.name}"
    # The kernel log: r registers at every size, ``atomic64_`` for the 64-bit functions.
    at = f"(({ctype} *)({{rd}} {{soff}})"
    bits = "64" if wide else ""
    for op in AtomicOp:
        if op in _ATOMIC_SYMBOL:
            symbol = _ATOMIC_SYMBOL[op]
            # llvm-objdump's default view prints the v1 32-bit ``lock +=`` with an r register.
            plain_val = "{vs}" if op is AtomicOp.ADD else val
            cpu = CpuVersion.V1 if op is AtomicOp.ADD else CpuVersion.V3
            yield Form(f"{prefix}_{op.name}", code, None, None, None, int(op),
                       f"lock *({ctype} *)({{rd}}{{moff}}) {symbol}= {plain_val}", cpu,
                       log=f"lock *({ctype} *)({{rd}} {{soff}}) {symbol}= {{rs}}")
            yield Form(f"{prefix}_FETCH_{op.name}", code, None, None, None, int(op) | ATOMIC_FETCH,
                       f"{val} = atomic_fetch_{op.name.lower()}(({ctype} *)({{rd}}{{moff}}), {val})",
                       CpuVersion.V3, log=f"{{rs}} = atomic{bits}_fetch_{op.name.lower()}{at}, {{rs}})")
        elif op is AtomicOp.XCHG:
            func = "xchg_64" if wide else "xchg32_32"
            yield Form(f"{prefix}_XCHG", code, None, None, None, int(op),
                       f"{val} = {func}({{rd}}{{moff}}, {val})", CpuVersion.V3,
                       log=f"{{rs}} = atomic{bits}_xchg{at}, {{rs}})")
        elif op is AtomicOp.CMPXCHG:
            func, r0 = ("cmpxchg_64", "r0") if wide else ("cmpxchg32_32", "w0")
            yield Form(f"{prefix}_CMPXCHG", code, None, None, None, int(op),
                       f"{r0} = {func}({{rd}}{{moff}}, {r0}, {val})", CpuVersion.V3,
                       log=f"r0 = atomic{bits}_cmpxchg{at}, r0, {{rs}})")


def _entry(opcode: int, forms: tuple[Form, ...]) -> OpcodeEntry:
    if len(forms) == 1:
        return OpcodeEntry(opcode, forms, (), MappingProxyType({}), key=lambda fields: None)
    disc = tuple(
        name for index, name in enumerate(FIELDS)
        if all(f.fixed[index] is not None for f in forms)
        and len({f.fixed[index] for f in forms}) > 1
    )
    indices = [FIELDS.index(name) for name in disc]
    if not indices:
        raise AssertionError(f"opcode {opcode:#04x}: forms without a discriminator")
    getter = operator.itemgetter(*indices)
    by_key: dict[object, Form] = {}
    for form in forms:
        key = getter(form.fixed)
        if key in by_key:
            raise AssertionError(f"opcode {opcode:#04x}: {form.name} and {by_key[key].name} overlap")
        by_key[key] = form
    return OpcodeEntry(opcode, forms, disc, MappingProxyType(by_key), key=getter)


@functools.cache
def opcode_table() -> OpcodeTable:
    """The table of every valid instruction form (built once, on first use)."""
    forms = (*_alu_forms(), *_jmp_forms(), *_load_store_forms())
    grouped: dict[int, list[Form]] = {}
    for form in forms:
        grouped.setdefault(form.opcode, []).append(form)
    entries = tuple(
        _entry(code, tuple(grouped[code])) if code in grouped else None for code in range(256)
    )
    by_name = {form.name: form for form in forms}
    if len(by_name) != len(forms):
        raise AssertionError("duplicate form names")
    if any(not form.log for form in forms):
        raise AssertionError("a form without a kernel-log template")
    return OpcodeTable(forms, entries, MappingProxyType(by_name))
