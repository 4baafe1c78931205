"""Will this object load on that kernel?  The features an object's programs use, and those a
target kernel lacks, each at the source line that uses it.

Features: the program type, each helper called (by id; the release that offered it to the
program's type, :data:`bpfbuild.abi.kversions.HELPER_PROG_TYPE_VERSIONS`), each map type
referenced, the special fields of the values of the maps it references (spin locks, timers,
kptrs, lists, rbtrees, workqueues: when each came, and the program types that can never use
them), kfunc calls (each strong kfunc by name: a probe target checks its BTF; a version target
the release of :func:`bpfbuild.abi.kfuncs.kfunc_since`), and instruction-level features (cpu v2
jumps, JMP32, atomics, cpu v4 instructions, bpf-to-bpf calls, callbacks, back-edges, more than
4,096 instructions, global data).  A target
(:class:`bpfbuild.abi.kversions.KernelFeatures`) is a mainline version or a kernel probe.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bpfbuild.abi.helpers import helper_name
from bpfbuild.abi.kfuncs import kfunc_since
from bpfbuild.abi.kversions import FEATURE_VERSIONS, KernelFeatures, helper_since_for, map_field_since, \
    map_type_since, prog_type_since, version_text
from bpfbuild.abi.maptypes import MapType
from bpfbuild.btf.record import parse_record
from bpfbuild.isa.fields import MODE_MASK, CpuVersion, InsnClass, PseudoCall, PseudoLoad
from bpfbuild.isa.opcodes import opcode_table
from bpfbuild.location import SourceLocation
from bpfbuild.obj.spec import ObjectSpec, Program

__all__ = ["Feature", "Lack", "check_object", "features_of", "kfunc_since", "map_fields"]

_ATOMIC_MODE = 0xC0
_ATOMIC_ADD = 0x00


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature a program uses, first at ``pc``."""

    kind: str              # "helper", "map_type", "map_field", "prog_type", "kfunc", "insn"
    key: str               # helper name, MapType name, field (bpf_spin_lock...), ProgType name, kfunc name,
                           # or a FEATURE_VERSIONS key
    program: str
    pc: int | None
    location: SourceLocation | None
    ident: int | None = None   # helper id
    prog_type: str | None = None   # the program's type (ProgType name): helpers reached types at different releases
    sleepable: bool = False        # a sleepable program (spin locks came to those later)
    map: str | None = None         # map_field: the map whose value holds the field

    @property
    def title(self) -> str:
        """How a message names it: ``bpf_loop (helper 181)``, ``RINGBUF map``."""
        if self.kind == "helper":
            return f"{self.key} (helper {self.ident})"
        if self.kind == "map_type":
            return f"{self.key} map"
        if self.kind == "map_field":
            return f"{self.key} in map {self.map}"
        if self.kind == "prog_type":
            return f"{self.key.lower()} programs"
        if self.kind == "kfunc":
            return f"kfunc {self.key}"
        return FEATURE_VERSIONS[self.key][1]

    @property
    def since(self) -> str | None:
        """The mainline release that added it (None: not tabulated)."""
        match self.kind:
            case "helper":
                v = helper_since_for(self.key, self.prog_type)
            case "kfunc":
                v = kfunc_since(self.key)
            case "map_type":
                v = map_type_since(self.key)
            case "map_field":
                v = map_field_since(self.key, self.prog_type, sleepable=self.sleepable)[0]
            case "prog_type":
                v = prog_type_since(self.key)
            case "insn":
                v = FEATURE_VERSIONS[self.key][0]
            case _:
                v = None
        return None if v is None else version_text(v)


@dataclass(frozen=True, slots=True)
class Lack:
    """A feature ``target`` lacks, and the message the user reads."""

    feature: Feature
    target: KernelFeatures
    reason: str

    @property
    def message(self) -> str:
        """The feature, then why the target lacks it: ``lsm programs need Linux 5.7; target 5.4 lacks it``."""
        return f"{self.feature.title} {self.reason}"

    def line(self, fallback_file: str | None = None) -> str:
        """``programs/x.bpf.c:42:9: error: bpf_loop (helper 181) needs Linux 5.17; target 5.15 lacks it``."""
        loc = self.feature.location
        if loc is not None:
            where = f"{loc.file}:{loc.line}:{loc.column}" if loc.column else f"{loc.file}:{loc.line}"
        else:
            where = fallback_file or self.feature.program
        at = f" (program {self.feature.program}" + (f", insn {self.feature.pc})" if self.feature.pc is not None
                                                      else ")")
        return f"{where}: error: {self.message}{at if loc is None else ''}"


def _pcs(prog: Program) -> Iterator[tuple[int, object]]:
    pc = 0
    for insn in prog.insns:
        yield pc, insn
        pc += 2 if insn.opcode == 0x18 else 1


def map_fields(btf: object, type_id: int) -> set[str]:
    """The special fields (``bpf_spin_lock``, ``bpf_timer``, ``kptr``, ...) a map value of BTF type
    ``type_id`` holds, nested structs, arrays and a global data section's variables included:
    those whose release :func:`~bpfbuild.abi.kversions.map_field_since` tabulates."""
    return {f.name for f in parse_record(btf, type_id).fields    # type: ignore[arg-type]
            if map_field_since(f.name)[0] is not None}


def features_of(spec: ObjectSpec, prog: Program) -> list[Feature]:
    """Every feature ``prog`` uses, each once (at its first use)."""
    seen: dict[tuple[str, str], Feature] = {}
    pt = prog.prog_type
    sleepable = bool(getattr(prog.section_info, "sleepable", False))

    def add(kind: str, key: str, pc: int | None, ident: int | None = None, map_name: str | None = None) -> None:
        if (kind, key) not in seen:
            loc = prog.source_location(pc) if pc is not None else None
            seen[kind, key] = Feature(kind, key, prog.name, pc, loc, ident, pt.name if pt is not None else None,
                                      sleepable, map_name)

    if pt is not None:
        add("prog_type", pt.name, None)
    table = opcode_table()
    slots = 0
    for pc, insn in _pcs(prog):
        slots = pc + (2 if insn.opcode == 0x18 else 1)     # type: ignore[attr-defined]
        op, src, off, imm = insn.opcode, insn.src, insn.off, insn.imm    # type: ignore[attr-defined]
        cls = op & 7
        if op == 0x85:
            if src == PseudoCall.HELPER:
                name = helper_name(imm)
                if name is not None:
                    add("helper", name, pc, imm)
            elif src == PseudoCall.CALL:
                add("insn", "bpf2bpf_calls", pc)
            elif src == PseudoCall.KFUNC:
                add("insn", "kfunc_calls", pc)
            continue
        if op == 0x18 and src in (PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE):
            add("insn", "global_data", pc)
        if op == 0x18 and src == PseudoLoad.FUNC:     # a callback's address (bpf_loop, for_each, timers)
            add("insn", "callbacks", pc)
        if cls in (InsnClass.JMP, InsnClass.JMP32) and op not in (0x85, 0x95):
            # a backward jump is a loop; `gotol` (JMP32 class, op JA) keeps its offset in imm
            if (imm if op == 0x06 else off) < 0:
                add("insn", "bounded_loops", pc)
        if cls == InsnClass.JMP32:
            add("insn", "jmp32", pc)
        if (op & MODE_MASK) == _ATOMIC_MODE and cls in (InsnClass.STX,) and imm != _ATOMIC_ADD:
            add("insn", "atomics", pc)
        form = table.lookup(op, insn.dst, src, off, imm)    # type: ignore[attr-defined]
        if form is not None:
            if form.cpu == CpuVersion.V4:
                add("insn", "cpu_v4", pc)
            elif form.cpu == CpuVersion.V2:
                add("insn", "jmp_lt", pc)
    weak = {e.name for e in spec.externs if e.is_func and e.weak}
    for pc, name in prog.kfunc_calls:
        if name not in weak:          # a __weak kfunc may be absent: the program checks bpf_ksym_exists()
            add("kfunc", name, pc)
    if slots > 4096:
        add("insn", "insns_over_4096", None)
    walked: set[int] = set()
    for pc, index in prog.map_refs:
        if 0 <= index < len(spec.maps):
            m = spec.maps[index]
            try:
                name = MapType(int(m.type)).name
            except ValueError:
                continue
            add("map_type", name, pc)
            if spec.btf is not None and m.value_type_id and index not in walked:
                walked.add(index)       # a map's fields are added at its first reference
                for fld in sorted(map_fields(spec.btf, m.value_type_id)):
                    add("map_field", fld, pc, map_name=m.name)
            if m.inner is not None:
                try:
                    add("map_type", MapType(int(m.inner.type)).name, pc)
                except ValueError:
                    pass
    return list(seen.values())


def check_object(spec: ObjectSpec, target: KernelFeatures) -> list[Lack]:
    """Every feature of every program of ``spec`` that ``target`` lacks, in program order."""
    out: list[Lack] = []
    for prog in spec.programs:
        pt = prog.prog_type
        for f in features_of(spec, prog):
            match f.kind:
                case "helper":
                    reason = target.lacks_helper(f.key, pt.name if pt is not None else None)
                case "map_type":
                    reason = target.lacks_map_type(f.key)
                case "map_field":
                    reason = target.lacks_map_field(f.key, f.prog_type, sleepable=f.sleepable)
                case "prog_type":
                    reason = target.lacks_prog_type(f.key)
                case "kfunc":
                    reason = target.lacks_kfunc(f.key, kfunc_since(f.key))
                case _:
                    reason = target.lacks_feature(f.key)
            if reason is not None:
                out.append(Lack(f, target, reason))
    return out
