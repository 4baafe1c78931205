"""The entry points: :func:`verify` (a program of an object) and :func:`verify_insns` (bytecode)."""

from __future__ import annotations

import functools
import gc
from collections.abc import Sequence
from typing import TYPE_CHECKING, overload

from bpfbuild.abi.progtypes import AttachType, ProgType
from bpfbuild.btf.record import EMPTY, may_hold_fields
from bpfbuild.btf.types import Func, Linkage
from bpfbuild.errors import BpfBuildError, ProgramError
from bpfbuild.isa.codec import raw_slots
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.verifier import btfid, globalargs, graph
from bpfbuild.verifier.cfg import RawSlot, check_structure
from bpfbuild.verifier.disasm import insn_text
from bpfbuild.verifier.env import BPF_COMPLEXITY_LIMIT_INSNS, Env, Options
from bpfbuild.verifier.explore import check_max_stack_depth, do_check, initial_state
from bpfbuild.verifier.fields import parse_record, parse_var_record
from bpfbuild.verifier.log import VerifierLog
from bpfbuild.verifier.report import Diagnostic, Report, explain
from bpfbuild.verifier.state import MapInfo

if TYPE_CHECKING:
    from bpfbuild.abi.target import Target
    from bpfbuild.obj.spec import ObjectSpec, Program

__all__ = ["map_infos", "verify", "verify_insns"]

_CTX_STRUCTS = frozenset({
    "xdp_md", "__sk_buff", "pt_regs", "bpf_raw_tracepoint_args", "bpf_perf_event_data", "bpf_sock_addr",
    "bpf_sock", "bpf_sockopt", "bpf_sock_ops", "sk_msg_md", "sk_reuseport_md", "bpf_sk_lookup",
    "bpf_cgroup_dev_ctx", "bpf_sysctl", "bpf_nf_ctx", "user_pt_regs",
})


def _decode_insns(insns: Sequence[Instruction]) -> tuple[list[RawSlot], list[Instruction | None] | None]:
    """The slots of ``insns`` and, by slot, the instructions the structural checks would build
    from them (these very ones; None when one of them differs: an imm_hi outside an ld_imm64)."""
    out: list[RawSlot] = []
    append = out.append
    by_slot: list[Instruction | None] | None = []
    ld64 = LD_IMM64_OPCODE
    for insn in insns:
        code = insn.opcode
        append((code, insn.dst, insn.src, insn.off, insn.imm))
        if code == ld64:
            append((0, 0, 0, 0, insn.imm_hi))
            if by_slot is not None:
                by_slot.append(insn)
                by_slot.append(None)
        elif by_slot is not None:
            if insn.imm_hi:
                by_slot = None
            else:
                by_slot.append(insn)
    return out, by_slot


def _slots_from_bytes(code: bytes) -> list[RawSlot]:
    if len(code) % 8:
        raise BpfBuildError(f"program is {len(code)} bytes: not a whole number of 8-byte instructions")
    return raw_slots(code)


def map_infos(maps: Sequence[object], btf: object | None = None) -> tuple[MapInfo, ...]:
    """What the verifier needs of an object's maps (``obj.MapSpec`` records), in object order;
    ``btf`` (the object's) types their values and so gives their special fields."""
    return tuple(_map_info(i, m, btf=btf) for i, m in enumerate(maps))


class _ObjectMaps(Sequence[MapInfo]):
    """:func:`map_infos` of an object's maps for one verification, each made when the program
    first refers to it (an ``ld_imm64`` of the map, by its index): a map the program does not
    use costs nothing, its value's BTF is not walked."""

    __slots__ = ("_btf", "_made", "_specs")

    def __init__(self, specs: Sequence[object], btf: object | None) -> None:
        self._specs = specs
        self._btf = btf
        self._made: list[MapInfo | None] = [None] * len(specs)

    def __len__(self) -> int:
        return len(self._made)

    @overload
    def __getitem__(self, index: int) -> MapInfo: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[MapInfo]: ...

    def __getitem__(self, index: int | slice) -> MapInfo | Sequence[MapInfo]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(len(self._made))[index])
        made = self._made[index]
        if made is None:
            if index < 0:
                index += len(self._made)
            made = self._made[index] = _map_info(index, self._specs[index], btf=self._btf)
        return made


def _map_info(index: int, m: object, *, inner_template: bool = False, btf: object | None = None) -> MapInfo:
    # the kernel's inner-map template (bpf_map_meta_alloc) copies no name: logs print no map=
    name = "" if inner_template else str(getattr(m, "name", ""))[:15]
    readonly = bool(getattr(m, "readonly", False))
    inner = getattr(m, "inner", None)
    value_tid = int(getattr(m, "value_type_id", 0) or 0)
    variables = tuple((v.type_id, v.offset, v.name) for v in getattr(m, "variables", ()) if v.type_id)
    record = None
    if value_tid and btf is not None:
        record = _value_record(btf, value_tid, variables)
    return MapInfo(index, name, int(getattr(m, "type", 0)), int(getattr(m, "key_size", 0)),
                   int(getattr(m, "value_size", 0)), int(getattr(m, "max_entries", 0)),
                   int(getattr(m, "flags", 0)), frozen=readonly,
                   initial=getattr(m, "initial", None) if readonly else None,
                   inner=_map_info(-1, inner, inner_template=True, btf=btf) if inner is not None else None,
                   has_btf=bool(value_tid and btf is not None),
                   record=record)


def _value_record(btf: object, value_tid: int, variables: tuple[tuple[int, int, str], ...]) -> object:
    """The special fields of a map's value (of its variables, for global data): a pure function
    of the object's BTF, kept with it for the object's other programs."""
    if not may_hold_fields(btf):  # type: ignore[arg-type]
        return EMPTY     # (what parsing gives: no type is named as a field)

    def parse() -> object:
        return parse_var_record(btf, variables) if variables else parse_record(btf, value_tid)  # type: ignore[arg-type]

    derived = getattr(btf, "derived", None)
    if derived is None:
        return parse()
    return derived(("map value record", value_tid, variables), parse)


def _global_funcs(spec: ObjectSpec, prog: Program,
                  attach: AttachType | None) -> tuple[frozenset[int], dict[int, object], str]:
    """Start pcs of global (non-static) functions and their prototypes as the kernel types them
    (:mod:`.globalargs`), and why the verdict cannot be trusted when a function's BTF could not
    be read ("" if it could): such a function may be global, and verifying it as static would
    check the wrong contract."""
    btf = spec.btf
    starts: set[int] = set()
    args: dict[int, object] = {}
    if btf is None:
        return frozenset(), {}, ""
    hidden = spec.hidden_funcs   # libbpf makes them static before the load
    for fi in prog.func_info:
        try:
            func = btf.type(fi.type_id)
        except (BpfBuildError, KeyError, IndexError) as exc:
            return frozenset(starts), args, f"the BTF of function {fi.name} (unreadable: {exc})"
        if not isinstance(func, Func):
            return frozenset(starts), args, f"func_info of {fi.name} (BTF type [{fi.type_id}] is not a function)"
        if func.linkage != Linkage.GLOBAL or func.name in hidden:
            continue
        assert prog.prog_type is not None
        starts.add(fi.pc)
        if not fi.pc:
            continue    # the main function is verified with the context in R1, not as its BTF types it
        args[fi.pc] = btf.derived(("global func args", fi.type_id, func.name, prog.prog_type, attach),
                                  functools.partial(globalargs.prepare_func_args, btf, fi.type_id, func.name,
                                                    prog.prog_type, attach, _CTX_STRUCTS))
    return frozenset(starts), args, ""


def _main_arg_note(spec: ObjectSpec, prog: Program) -> str:
    """What ``btf_prepare_func_args`` logs for the main function: the first pointer argument
    whose target has no size (``void *ctx``, a pointer to a declared-only struct)."""
    btf = spec.btf
    infos = [fi for fi in prog.func_info if fi.pc == 0]
    if btf is None or not infos:
        return ""
    from bpfbuild.btf.types import Func, FuncProto, Fwd, Pointer

    try:
        func = btf.type(infos[0].type_id)
        proto = btf.type(func.type) if isinstance(func, Func) else None
        if not isinstance(proto, FuncProto):
            return ""
        for i, param in enumerate(proto.params):
            t = btf.resolve(param.type)
            if not isinstance(t, Pointer):
                continue
            target_id = t.type
            target = btf.resolve(target_id) if target_id else None
            if target is None:
                return f"arg#{i} reference type('UNKNOWN ') size cannot be determined: -22\n"
            if isinstance(target, (Fwd, FuncProto)):
                kind = "FWD" if isinstance(target, Fwd) else "FUNC_PROTO"
                return f"arg#{i} reference type('{kind} {target.name}') size cannot be determined: -22\n"
    except (BpfBuildError, KeyError, IndexError):
        return ""
    return ""


#: the call libbpf writes over an instruction whose CO-RE relocation cannot be resolved
_CORE_POISON = "invalid func unknown#195896080"


def _run(env: Env, slots: list[RawSlot], name: str, section: str, prologue: str = "",
         core_poisoned: dict[int, str] | None = None, decoded: list[Instruction | None] | None = None) -> Report:
    # The cycle collector is paused for the whole verification, as explore.do_check pauses it for
    # the walk: what a verification allocates forms no reference cycles (see the finally clause)
    # and is freed by reference counting, so a collection in the middle would only walk objects
    # about to die (states, registers, the structural checks' tables).
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return _run_checks(env, slots, name, section, prologue, core_poisoned, decoded)
    finally:
        # the two back references to the environment (the path walk's fork, the stack liveness)
        # go with the run, so that the environment and every state it holds are freed at once
        env.fork = None
        env.stack_live = None
        if collecting:
            gc.enable()


def _run_checks(env: Env, slots: list[RawSlot], name: str, section: str, prologue: str,
                core_poisoned: dict[int, str] | None, decoded: list[Instruction | None] | None) -> Report:
    error: ProgramError | None = None
    try:
        if not slots:
            raise env.error("empty program", 0)
        check_structure(env, slots, decoded)
        env.verbose(prologue)
        do_check(env, initial_state(env, 0), 0)
        if env.log.level == 1:
            env.log.rewind(0)   # do_check_common: a verified function's path is not kept at level 1
        _check_globals(env)
        check_max_stack_depth(env)
    except ProgramError as exc:
        error = exc.with_traceback(None)   # kept, its traceback not: that would hold this frame
    except RecursionError as exc:  # pragma: no cover - deep call chains are bounded by MAX_CALL_FRAMES
        error = ProgramError(f"verifier internal error: {exc}", pc=env.insn_idx)
    diags: tuple[Diagnostic, ...] = ()
    if error is not None:
        lines = error.message.split("\n")
        if core_poisoned and lines[-1] == _CORE_POISON and error.pc in core_poisoned:
            # libbpf's fixup_log_failed_core_relo: the log names the relocation, not the call
            lines[-1] = f"failed to resolve CO-RE relocation {core_poisoned[error.pc]}"
        env.verbose("".join(line + "\n" for line in lines))
        for line in env.error_tail:
            env.verbose(line + "\n")
        message = lines[-1]
        detail = tuple(lines[:-1])
        explanation, hint = explain("\n".join(lines))
        pc = error.pc if error.pc is not None else 0
        li = env.line_at(pc)
        insn = env.insns[pc] if 0 <= pc < len(env.insns) else None
        diags = (Diagnostic(pc, li.location if li is not None else None, message, explanation, hint, detail,
                            source=li.text if li is not None else "",
                            insn_text=insn_text(insn, pc, env.maps) if insn is not None else ""),)
    if env.log.level:
        env.verbose(f"processed {env.insn_processed} insns (limit {env.options.insn_limit}) max_states_per_insn "
                    f"{env.max_states_per_insn} total_states {env.total_states} peak_states {env.peak_states} "
                    "mark_read 0\n")
    return Report(name, section, error is None, env.insn_processed, diags, env.log.text(), tuple(env.notes),
                  env.total_states, env.peak_states, env.max_states_per_insn, tuple(env.aux))


def _check_globals(env: Env) -> None:
    """``do_check_subprogs``: every global function that was called is verified on its own,
    with arguments as its BTF prototype describes them."""
    done: set[int] = set()
    while True:
        todo = [i for i, sp in enumerate(env.subprogs) if i and sp.is_global and sp.called and i not in done]
        if not todo:
            return
        for i in todo:
            done.add(i)
            sp = env.subprogs[i]
            env.verbose(f"Validating {sp.name}() func#{i}...\n")
            env.explored.clear()
            do_check(env, initial_state(env, i), sp.start)
            if env.log.level == 1:
                env.log.rewind(0)
            env.verbose(f"Func#{i} ('{sp.name}') is safe for any args that match its prototype\n")


def verify(spec: ObjectSpec, prog: Program, *, unprivileged: bool = False, log_level: int = 0,
           insn_limit: int | None = None, nr_cpu_ids: int = 0, target: Target | None = None) -> Report:
    """Verify ``prog`` (an ``obj.Program`` of ``spec``, an ``obj.ObjectSpec``) as Linux 6.18 would.

    ``unprivileged`` selects the rules for a loader without CAP_BPF/CAP_PERFMON; ``log_level``
    1 or 2 fills :attr:`Report.log` like the kernel's verifier log; ``nr_cpu_ids`` is the
    target's (0: this machine's); ``target`` the kernel whose BTF types tracing contexts and
    kfuncs (default: the one ``obj.loader.default_target`` gives, the running kernel).  Raises
    :class:`~bpfbuild.errors.BpfBuildError` only when the program cannot be verified at all (its
    section names no program type).
    """
    name = prog.name
    section = prog.section
    prog_type = prog.prog_type
    if prog_type is None:
        raise BpfBuildError(f"program {name}: section {section!r} does not name a program type")
    info = prog.section_info
    attach = info.expected_attach_type if info is not None else None
    options = Options(privileged=not unprivileged, log_level=log_level,
                      insn_limit=insn_limit or BPF_COMPLEXITY_LIMIT_INSNS, nr_cpu_ids=nr_cpu_ids)
    if unprivileged and prog_type not in (ProgType.SOCKET_FILTER, ProgType.CGROUP_SKB):
        err = ProgramError(f"program type {prog_type.name.lower()} needs CAP_BPF (an unprivileged loader may "
                           "load only socket filters and cgroup skb programs)", pc=0)
        return Report(name, section, False, 0, (Diagnostic(0, None, err.message),), "", ())
    env = _make_env(spec, prog, prog_type, attach, options)
    env.target = target
    if info is not None and info.needs_btf_target:
        env.attach_btf_name = info.btf_target_name
        if btfid.has_btf_ctx(env):
            try:
                btfid.resolve_attach(env)
            except BpfBuildError as exc:
                raise BpfBuildError(f"program {name}: section {section!r}: {exc.message}") from None
    slots, decoded = _decode_insns(prog.insns)
    return _run(env, slots, name, section, _main_arg_note(spec, prog) if log_level else "",
                dict(prog.core_poisoned), decoded)


def _make_env(spec: ObjectSpec, prog: Program, prog_type: ProgType, attach: AttachType | None,
              options: Options) -> Env:
    maps = _ObjectMaps(spec.maps, spec.btf)
    func_names = {fi.pc: fi.name for fi in prog.func_info}
    globals_, args, unreadable = _global_funcs(spec, prog, attach)
    info = prog.section_info
    env = Env(insns=[], prog_type=prog_type, attach_type=attach, maps=maps,
              gpl=prog.gpl_compatible, options=options,
              sleepable=bool(info.sleepable) if info is not None else False,
              line_records=prog.line_info, func_names=func_names, global_funcs=globals_, global_args=args,
              raw_map_loads=frozenset(prog.raw_map_loads), log=VerifierLog(options.log_level))
    env.prog_btf = spec.btf
    btf = spec.btf
    refused = btf.derived(("prog btf refused",), functools.partial(graph.prog_btf_refused, btf)) \
        if btf is not None else ""
    if refused:
        env.not_modelled(refused)
    if unreadable:
        env.not_modelled(unreadable)
    return env


def verify_insns(code: bytes | Sequence[Instruction], prog_type: ProgType | int, *,
                 attach_type: AttachType | None = None, maps: Sequence[object] = (), license: str = "GPL",
                 unprivileged: bool = False, log_level: int = 0, insn_limit: int | None = None,
                 name: str = "prog", test_state_freq: bool = False, target: Target | None = None) -> Report:
    """Verify bare bytecode (bytes of 8-byte slots, or instructions) of ``prog_type`` (for
    ``target``'s kernel; default: the running one).

    ``maps`` are ``MapSpec``-like records; ``ld_imm64`` map references use their index as the fd.
    Any bytes are accepted: malformed programs are rejected with the kernel's message.
    ``test_state_freq`` verifies as with BPF_F_TEST_STATE_FREQ (a checkpoint at every prune point).
    """
    from bpfbuild.obj.spec import is_gpl_compatible

    decoded = None
    if isinstance(code, (bytes, bytearray, memoryview)):
        slots = _slots_from_bytes(bytes(code))
    else:
        slots, decoded = _decode_insns(code)
    options = Options(privileged=not unprivileged, log_level=log_level,
                      insn_limit=insn_limit or BPF_COMPLEXITY_LIMIT_INSNS, test_state_freq=test_state_freq)
    env = Env(insns=[], prog_type=ProgType(prog_type), attach_type=attach_type, maps=map_infos(maps),
              gpl=is_gpl_compatible(license), options=options, log=VerifierLog(log_level))
    env.target = target
    return _run(env, slots, name, "", decoded=decoded)
