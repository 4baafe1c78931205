"""The verifier environment (``struct bpf_verifier_env``): the program, its facts, the run's counters.

One :class:`Env` is built per verification and owns everything mutable of that run: the
explored-states table, the id generator, the log.  Nothing is global.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bpfbuild.abi import target as _abi_target
from bpfbuild.abi.ctx import CtxSpec, ctx_spec
from bpfbuild.abi.progtypes import AttachType, ProgType
from bpfbuild.errors import ProgramError
from bpfbuild.isa.instruction import Instruction
from bpfbuild.location import SourceLocation
from bpfbuild.verifier.log import VerifierLog
from bpfbuild.verifier.state import MapInfo, VerifierState

if TYPE_CHECKING:
    from bpfbuild.abi.target import Target
    from bpfbuild.btf.spec import Spec
    from bpfbuild.verifier.liveness import StackLiveness

__all__ = [
    "BPF_COMPLEXITY_LIMIT_INSNS",
    "BPF_COMPLEXITY_LIMIT_JMP_SEQ",
    "MAX_BPF_STACK",
    "MAX_CALL_FRAMES",
    "Env",
    "LineInfo",
    "Options",
    "Subprog",
    "host_nr_cpu_ids",
]

BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000
BPF_COMPLEXITY_LIMIT_JMP_SEQ = 8192
MAX_BPF_STACK = 512
MAX_CALL_FRAMES = 8
#: BPF_MAX_VAR_OFF / BPF_MAX_VAR_SIZ
BPF_MAX_VAR_OFF = 1 << 29
BPF_MAX_VAR_SIZ = 1 << 29


@dataclass(frozen=True, slots=True)
class Options:
    """How to verify: the loader's privilege and the log level (0, 1, 2).

    ``privileged`` is what ``sudo bpftool prog load`` gets (CAP_SYS_ADMIN: bpf_capable,
    allow_ptr_leaks, allow_uninit_stack, Spectre mitigations bypassed).  ``insn_limit`` is the
    kernel's 1,000,000 processed instructions; tests may lower it.  ``test_state_freq`` is
    the load flag BPF_F_TEST_STATE_FREQ: a checkpoint at every prune point.  ``nr_cpu_ids`` is
    the target's ``nr_cpu_ids`` (``bpf_get_smp_processor_id`` returns less); 0 means this
    machine's, from sysfs.
    """

    privileged: bool = True
    log_level: int = 0
    insn_limit: int = BPF_COMPLEXITY_LIMIT_INSNS
    test_state_freq: bool = False
    nr_cpu_ids: int = 0

    def cpus(self) -> int:
        """``nr_cpu_ids`` of the target."""
        return self.nr_cpu_ids or host_nr_cpu_ids()


@functools.cache
def host_nr_cpu_ids() -> int:
    """This machine's ``nr_cpu_ids``: one more than the last possible CPU in sysfs (8192 if unreadable)."""
    try:
        with open("/sys/devices/system/cpu/possible") as fh:
            text = fh.read().strip()
        return int(text.split(",")[-1].split("-")[-1]) + 1
    except (OSError, ValueError):
        return 8192


@functools.lru_cache(maxsize=1)
def _running_target(vmlinux_btf: str) -> Target:
    """The running kernel as the default target, shared by the verifications of one process:
    its vmlinux BTF takes seconds to decode, and every program of every object would otherwise
    decode it again.  Keyed by the BTF's path alone: the running kernel's BTF does not change
    while this process runs (a new kernel is a new boot), and asking the file system whether
    it did would cost every verification a ``stat``."""
    from bpfbuild.obj.loader import default_target

    return default_target()


@dataclass(frozen=True, slots=True)
class LineInfo:
    """A BTF line-info record: from ``pc`` on, the code comes from ``location`` (``text``)."""

    pc: int
    location: SourceLocation
    text: str


@dataclass(slots=True)
class Subprog:
    """``struct bpf_subprog_info``: a function of the program, ``[start, end)`` in slots."""

    start: int
    end: int = 0
    name: str = ""
    is_global: bool = False
    stack_depth: int = 0
    has_tail_call: bool = False
    has_ld_abs: bool = False
    changes_pkt_data: bool = False  # it (or a function it calls) may change packet data or tail-call
    is_cb: bool = False
    is_async_cb: bool = False
    called: bool = False
    args: object = None             # global functions: their typed prototype (globalargs.GlobalProto)


@dataclass(slots=True, init=False)
class Aux:
    """``struct bpf_insn_aux_data`` fields this verifier uses, one per slot (all at their
    defaults when made: one is made for every slot of every program verified)."""

    prune_point: bool = False
    jmp_point: bool = False
    force_checkpoint: bool = False
    calls_callback: bool = False
    iter_next: bool = False       # a bpf_iter_*_next kfunc call (is_iter_next_insn)
    live_before: int = 0          # registers live before the instruction (bit i = r_i)
    scc: int = 0                  # its loop (strongly connected component), 0: none
    seen: bool = False
    ptr_type: int | None = None    # the pointer type a load/store used first (save_aux_ptr_type)
    map_index: int | None = None   # a map helper call's map (map_ptr_state); -1: poisoned (several maps)
    map_key: int | None = None     # a tail call's constant key (map_key_state); -1: poisoned
    fastcall_spills: int = 0       # a bpf_fastcall call: spill/fill pairs around it the kernel removes

    def __init__(self) -> None:
        # the defaults above, stored by hand: cheaper than a generated __init__'s twelve parameters
        self.prune_point = self.jmp_point = self.force_checkpoint = self.calls_callback = False
        self.iter_next = self.seen = False
        self.live_before = self.scc = self.fastcall_spills = 0
        self.ptr_type = self.map_index = self.map_key = None


@dataclass(slots=True)
class StateEntry:
    """``struct bpf_verifier_state_list``: an explored state kept for pruning."""

    state: VerifierState
    hit_cnt: int = 0
    miss_cnt: int = 0


@dataclass(slots=True)
class SccVisit:
    """``struct bpf_scc_visit``: one entry into a loop along a call chain -- the checkpoint that
    entered it and the states found equal to a checkpoint inside it (backedges) whose precision
    marks are propagated when the loop has been fully explored."""

    entry_state: VerifierState | None = None
    backedges: list[VerifierState] = field(default_factory=list)


@dataclass(slots=True)
class Env:
    insns: list[Instruction | None]          # by slot; None for the second slot of ld_imm64
    prog_type: ProgType
    attach_type: AttachType | None
    maps: Sequence[MapInfo]                 # by index in the object (api builds each when first asked for)
    gpl: bool
    options: Options
    sleepable: bool = False
    line_info: tuple[LineInfo, ...] = ()
    #: the program's line records (``obj.LineRecord``: pc, location, line_text), made into
    #: :attr:`line_info` when a line is first asked for (a log, an error), not on every run
    line_records: tuple[object, ...] = ()
    func_names: dict[int, str] = field(default_factory=dict)        # start pc -> name
    global_funcs: frozenset[int] = frozenset()                        # start pcs of global funcs
    global_args: dict[int, object] = field(default_factory=dict)  # their prototypes (globalargs.GlobalProto)
    raw_map_loads: frozenset[int] = frozenset()   # map ld_imm64 without relocation: imm is a raw fd
    subprogs: list[Subprog] = field(default_factory=list)
    aux: list[Aux] = field(default_factory=list)
    log: VerifierLog = field(default_factory=lambda: VerifierLog(0))
    notes: list[str] = field(default_factory=list)                    # what we could not model
    error_tail: list[str] = field(default_factory=list)               # log lines after the error
    # --- the run --------------------------------------------------------------------------------
    insn_idx: int = 0
    prev_insn_idx: int = -1
    id_gen: int = 0
    insn_processed: int = 0
    jmps_processed: int = 0
    prev_insn_processed: int = 0
    prev_jmps_processed: int = 0
    total_states: int = 0
    peak_states: int = 0
    explored_size: int = 0
    max_states_per_insn: int = 0
    explored: dict[int, list[StateEntry]] = field(default_factory=dict)
    stack_size: int = 0                      # pending branches
    seen_direct_write: bool = False
    _ctx: CtxSpec | None = None
    _ctx_done: bool = False
    _linfo_pcs: list[int] = field(default_factory=list)
    prev_linfo: int = -1
    hist_step: int = -1                       # insn_processed when the last history entry was pushed
    #: push a copy of the current state to be explored from an instruction (set by the explorer)
    fork: Callable[[int, int], VerifierState] | None = None
    scc_visits: dict[tuple[tuple[int, ...], int], SccVisit] = field(default_factory=dict)
    num_backedges: int = 0
    free_list: int = 0                        # evicted checkpoints not yet freed (they count in peak_states)
    scratched_slots: set[int] = field(default_factory=set)  # stack slots accessed since the last state print
    stack_live: StackLiveness | None = None  # liveness.StackLiveness, set up after the structural checks
    #: the kernel the program is loaded into (abi.target.Target): its BTF types PTR_TO_BTF_ID
    #: registers, tracing contexts and kfuncs.  None: obj.loader.default_target() on first use.
    target: Target | None = None
    #: the BTF name of the attach target libbpf resolves (``btf_trace_<tp>``, a function,
    #: ``bpf_lsm_<hook>``, ``bpf_iter_<name>``) and, once found, its btfid.AttachTarget
    attach_btf_name: str | None = None
    btf_attach: object | None = None
    #: the program's own BTF (``prog->aux->btf``: the object's), whose structs bpf_obj_new allocates
    prog_btf: Spec | None = None
    #: graph.alloc_record's cache: (id of a BTF, struct id) -> (that BTF, its record or None)
    graph_cache: dict = field(default_factory=dict)
    #: fastcall.Fastcall: the bpf_fastcall spill/fill patterns, found on the first stack access
    fastcall: object | None = None

    # --- privilege ------------------------------------------------------------------------------

    @property
    def bpf_capable(self) -> bool:
        return self.options.privileged

    @property
    def allow_ptr_leaks(self) -> bool:
        return self.options.privileged

    @property
    def allow_uninit_stack(self) -> bool:
        return self.options.privileged

    @property
    def bypass_spec_v1(self) -> bool:
        return self.options.privileged

    # --- facts ----------------------------------------------------------------------------------

    @property
    def insn_cnt(self) -> int:
        return len(self.insns)

    @property
    def ctx(self) -> CtxSpec | None:
        if not self._ctx_done:
            self._ctx = ctx_spec(self.prog_type, self.attach_type)
            self._ctx_done = True
        return self._ctx

    def new_id(self) -> int:
        self.id_gen += 1
        return self.id_gen

    def find_subprog(self, start: int) -> int:
        for i, sp in enumerate(self.subprogs):
            if sp.start == start:
                return i
        return -1

    def explored_bucket(self, pc: int, callsite: int) -> list[StateEntry]:
        """``explored_state``: the hash bucket of checkpoints for ``pc`` in a frame called from
        ``callsite`` -- shared with other instructions whose hash collides, as in the kernel."""
        key = ((pc ^ callsite) & 0xFFFFFFFF) % max(len(self.insns), 1)
        bucket = self.explored.get(key)
        if bucket is None:
            bucket = self.explored[key] = []
        return bucket

    def find_containing_subprog(self, pc: int) -> int:
        return self.subprog_of(pc)

    def subprog_of(self, pc: int) -> int:
        for i in range(len(self.subprogs) - 1, -1, -1):
            if self.subprogs[i].start <= pc:
                return i
        return 0

    def line_at(self, pc: int) -> LineInfo | None:
        if not self.line_info:
            if not self.line_records:
                return None
            self.line_info = tuple(LineInfo(r.pc, r.location, r.line_text)  # type: ignore[attr-defined]
                                   for r in self.line_records)
        if not self._linfo_pcs:
            self._linfo_pcs = [li.pc for li in self.line_info]
        import bisect

        i = bisect.bisect_right(self._linfo_pcs, pc) - 1
        return self.line_info[i] if i >= 0 else None

    # --- the target kernel ----------------------------------------------------------------------

    @property
    def kernel(self) -> Target:
        """The target kernel (the running one unless the caller chose another)."""
        if self.target is None:
            self.target = _running_target(_abi_target.VMLINUX_BTF)
        return self.target

    @property
    def kernel_btf(self) -> Spec | None:
        """The target kernel's vmlinux BTF (``btf_vmlinux``), or None where it has none readable."""
        return self.kernel.btf_or_none()

    def kfunc_log_name(self, insn: Instruction) -> str | None:
        """``disasm_kfunc_name``: a vmlinux kfunc call's name in the target BTF (None: a module's
        kfunc, or no BTF: the log then says ``kernel-function``).  The id of a ``__weak`` kfunc
        the kernel lacks is 0 (libbpf's), whose name is empty: the log says ``call #0``."""
        btf = self.kernel_btf if insn.off == 0 else None
        if btf is None:
            return None
        if insn.imm == 0:
            return ""
        try:
            return btf.name_of(insn.imm) or None
        except (LookupError, ValueError):
            return None

    # --- errors and log -------------------------------------------------------------------------

    def not_modelled(self, what: str) -> None:
        """Record something this verifier does not model (once): the verdict becomes ``unknown``."""
        if what not in self.notes:
            self.notes.append(what)

    def error(self, message: str, pc: int | None = None) -> ProgramError:
        """A rejection at the current instruction (``message`` may hold several kernel lines)."""
        return ProgramError(message, pc=self.insn_idx if pc is None else pc)

    def verbose(self, text: str) -> None:
        self.log.write(text)

    def verbose_linfo(self, pc: int, prefix: str = "; ") -> None:
        """The ``; source text @ file:line`` line before an instruction (once per record)."""
        if not self.log.level:
            return
        li = self.line_at(pc)
        if li is None:
            return
        idx = self._linfo_pcs.index(li.pc)
        if idx == self.prev_linfo:
            return
        prev = self.line_info[self.prev_linfo] if self.prev_linfo >= 0 else None
        self.prev_linfo = idx
        if prev is not None and prev.location.file == li.location.file and prev.location.line == li.location.line:
            return
        file = li.location.file.rsplit("/", 1)[-1]
        self.log.write(f"{prefix}{li.text.strip()} @ {file}:{li.location.line}\n")
