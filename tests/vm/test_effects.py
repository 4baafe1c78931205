"""Tracing and cgroup helpers with effects outside the program (bpfbuild/vm/tracing.py,
timers.py, cgroup.py): fentry/fexit arguments, signals, overridden returns, d_path, timers,
cgroup storage and socket options, with Linux 6.18's return values."""

from __future__ import annotations

import errno
import struct
from pathlib import Path

import pytest

from bpfbuild.abi.helpers import helper_id
from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import AttachType, ProgType
from bpfbuild.errors import NotEmulated
from bpfbuild.isa import assemble
from bpfbuild.vm import Machine, Session, load

from .kernelrun import kernel_retval

FENTRY, FEXIT = int(AttachType.TRACE_FENTRY), int(AttachType.TRACE_FEXIT)


def _h(name: str) -> int:
    ident = helper_id(name)
    assert ident is not None
    return ident


def _run(text: str, *, session: Session | None = None, prog_type: ProgType = ProgType.TRACING,
         attach_type: int | None = FENTRY, maps: list | None = None, **run: object) -> tuple[int, Machine]:
    m = Machine(session)
    prog = m.load(assemble(text), prog_type=prog_type, attach_type=attach_type, maps=maps or [])
    return m.run(prog, **run).signed, m   # type: ignore[arg-type]


# --- bpf_get_func_arg / _ret / _arg_cnt ----------------------------------------------------------

def _arg(n: int) -> str:
    """r0 = get_func_arg(ctx, n, &v) ?: v"""
    return f"""
        r2 = {n} ll
        r3 = r10
        r3 += -8
        call {_h("bpf_get_func_arg")}
        if r0 != 0 goto out
        r0 = *(u64 *)(r10 - 8)
    out:
        exit
    """


RET = f"""
    r2 = r10
    r2 += -8
    call {_h("bpf_get_func_ret")}
    if r0 != 0 goto out
    r0 = *(u64 *)(r10 - 8)
out:
    exit
"""
CNT = f"call {_h('bpf_get_func_arg_cnt')}\nexit"


def test_fentry_reads_each_argument_and_einval_past_the_last() -> None:
    assert _run(_arg(0), args=[10, 20, 30])[0] == 10
    assert _run(_arg(2), args=[10, 20, 30])[0] == 30
    assert _run(_arg(3), args=[10, 20, 30])[0] == -errno.EINVAL
    assert _run(_arg(1 << 32), args=[10, 20, 30])[0] == 10     # n is a u32
    assert _run(CNT, args=[10, 20, 30])[0] == 3


def test_fexit_context_ends_with_the_return_value() -> None:
    assert _run(CNT, args=[10, 20, 99], attach_type=FEXIT)[0] == 2
    assert _run(_arg(2), args=[10, 20, 99], attach_type=FEXIT)[0] == -errno.EINVAL
    assert _run(RET, args=[10, 20, 99], attach_type=FEXIT)[0] == 99
    assert _run(RET, args=[10, 20, 99])[0] == -errno.EOPNOTSUPP   # fentry: the verifier's constant


def test_world_func_args_sets_the_count() -> None:
    session = Session(func_args=1)
    assert _run(CNT, session=session, args=[10, 20, 99], attach_type=FEXIT)[0] == 1
    assert _run(RET, session=Session(func_args=1), args=[10, 20, 99], attach_type=FEXIT)[0] == 20


# --- signals, override_return, d_path ------------------------------------------------------------

def test_send_signal_is_recorded_and_refused_for_init_and_bad_signals() -> None:
    text = f"r1 = 9\ncall {_h('bpf_send_signal')}\nr6 = r0\nr1 = 10\ncall {_h('bpf_send_signal_thread')}\nr0 += r6\nexit"
    rv, m = _run(text, session=Session(pid=7, tgid=5), args=[0])
    assert rv == 0
    assert m.session.effects == [{"effect": "signal", "sig": 9, "scope": "process", "pid": 5},
                                 {"effect": "signal", "sig": 10, "scope": "thread", "pid": 7}]
    rv, m = _run(text, session=Session(pid=1), args=[0])
    assert rv == -2 * errno.EPERM and m.session.effects == []
    rv, m = _run(f"r1 = 65\ncall {_h('bpf_send_signal')}\nexit", args=[0])
    assert rv == -errno.EINVAL and m.session.effects == []


def test_each_run_reports_its_own_effects_and_the_session_keeps_them_all() -> None:
    m = Machine(Session(pid=7))
    prog = m.load(assemble(f"r1 = 9\ncall {_h('bpf_send_signal')}\nexit"), prog_type=ProgType.TRACING,
                  attach_type=FENTRY)
    quiet = m.load(assemble("r0 = 0\nexit"), name="quiet", prog_type=ProgType.TRACING, attach_type=FENTRY)
    first = m.run(prog, args=[0])
    assert len(first.effects) == 1 and m.run(prog, args=[0]).effects == first.effects
    assert m.run(quiet, args=[0]).effects == ()
    assert len(m.session.effects) == 2


def test_override_return_sets_ax_and_is_recorded() -> None:
    text = f"r2 = -12\ncall {_h('bpf_override_return')}\nexit"
    m = Machine()
    prog = m.load(assemble(text), prog_type=ProgType.KPROBE)
    res = m.run(prog, args=[1, 2])
    assert res.retval == 0
    assert m.session.effects == [{"effect": "override_return", "rc": -12}]
    assert res.effects == ({"effect": "override_return", "rc": -12},)
    assert res.ctx is not None and struct.unpack_from("<q", res.ctx, 80)[0] == -12   # pt_regs->ax


def test_probe_write_user_writes_user_memory_and_is_recorded() -> None:
    text = f"""
        r2 = 0x41424344
        *(u32 *)(r10 - 4) = r2
        r1 = {{addr}} ll
        r2 = r10
        r2 += -4
        r3 = 4
        call {_h("bpf_probe_write_user")}
        exit
    """
    session = Session(user_memory={0x7FFF0000: bytes(8)})
    rv, m = _run(text.format(addr=0x7FFF0002), session=session, args=[0])
    assert rv == 0
    assert session.user_memory.read(0x7FFF0000, 8) == b"\0\0DCBA\0\0"
    assert session.effects == [{"effect": "probe_write_user", "addr": 0x7FFF0002, "size": 4}]
    session = Session(user_memory={0x7FFF0000: bytes(8)})
    assert _run(text.format(addr=0x7FFF0006), session=session, args=[0])[0] == -errno.EFAULT   # runs past it
    assert session.user_memory.read(0x7FFF0000, 8) == bytes(8) and session.effects == []


D_PATH = f"""
    r1 = *(u64 *)(r1 + 0)
    r2 = r10
    r2 += -16
    r3 = {{size}}
    call {_h("bpf_d_path")}
    if r0 s< 0 goto out
    r1 = *(u64 *)(r10 - 16)
    r0 <<= 32
    r1 &= 0xffffff
    r0 |= r1
out:
    exit
"""


def test_d_path_copies_the_named_path_with_its_nul() -> None:
    session = Session(paths={"0xffff888000100000": "/etc"}, kernel_memory={0xFFFF888000100000: bytes(16)})
    rv, _ = _run(D_PATH.format(size=16), session=session, args=[0xFFFF888000100000])
    assert rv == 5 << 32 | int.from_bytes(b"/et", "little")
    session = Session(paths={0xFFFF888000100000: "/etc"})
    assert _run(D_PATH.format(size=4), session=session, args=[0xFFFF888000100000])[0] == -errno.ENAMETOOLONG


def test_d_path_of_no_memory_is_efault_and_of_an_unnamed_path_not_emulated() -> None:
    assert _run(D_PATH.format(size=16), args=[0xFFFF888000200000])[0] == -errno.EFAULT
    session = Session(kernel_memory={0xFFFF888000200000: bytes(16)})
    with pytest.raises(NotEmulated, match="bpf_d_path"):
        _run(D_PATH.format(size=16), session=session, args=[0xFFFF888000200000])


# --- timers ------------------------------------------------------------------------------------

class _MapSpec:
    def __init__(self, name: str, type: MapType, key_size: int, value_size: int, max_entries: int) -> None:
        self.name, self.type, self.key_size, self.value_size = name, type, key_size, value_size
        self.max_entries, self.flags, self.initial, self.readonly, self.inner = max_entries, 0, None, False, None


#: r6 = the timer of element 0 of map 0 (its value: { u64 fired; struct bpf_timer t; })
TIMER_OF_ELEMENT_0 = f"""
    r1 = 0
    *(u32 *)(r10 - 4) = r1
    ld_pseudo r1, 1, 0
    r2 = r10
    r2 += -4
    call {_h("bpf_map_lookup_elem")}
    if r0 == 0 goto out
    r6 = r0
    r6 += 8
"""


def _timer_prog(start_flags: int = 0, init_flags: int = 1) -> str:
    """An array of { u64 fired; struct bpf_timer t; }: init, set the callback, start in 1000 ns;
    r0 = init | set << 8 | start << 16 (each 0 or a small errno)  ; the callback counts."""
    return TIMER_OF_ELEMENT_0 + f"""
        r1 = r6
        ld_pseudo r2, 1, 0
        r3 = {init_flags}
        call {_h("bpf_timer_init")}
        r0 = -r0
        r7 = r0
        r1 = r6
        ld_pseudo r2, 4, callback
        call {_h("bpf_timer_set_callback")}
        r0 = -r0
        r0 <<= 8
        r7 |= r0
        r1 = r6
        r2 = 1000
        r3 = {start_flags}
        call {_h("bpf_timer_start")}
        r0 = -r0
        r0 <<= 16
        r7 |= r0
        r0 = r7
    out:
        exit
    """


CALLBACK = """
    r1 = *(u64 *)(r3 + 0)
    r1 += 1
    *(u64 *)(r3 + 0) = r1
    r0 = 0
    exit
"""


def _with_callback(main: str) -> list:
    """``main`` then CALLBACK, the ``ld_pseudo rN, 4, callback`` pointing at it."""
    slots, ld = 0, 0
    for insn in assemble(main.replace("callback", "0")):
        if insn.opcode == 0x18 and insn.src == 4:
            ld = slots
        slots += 2 if insn.opcode == 0x18 else 1      # ld_imm64 takes two slots
    return assemble(main.replace("callback", str(slots - ld - 1)) + CALLBACK)


def _timer_machine() -> tuple[Machine, object]:
    session = Session()
    timers = session.create_map(_MapSpec("timers", MapType.ARRAY, 4, 24, 2))
    m = Machine(session)
    return m, m.load(_with_callback(_timer_prog()), prog_type=ProgType.XDP, maps=[timers])


def test_a_started_timer_is_recorded_and_its_callback_runs_when_fired() -> None:
    m, prog = _timer_machine()
    assert m.run(prog, packet=bytes(14)).retval == 0
    assert m.session.effects[-1]["effect"] == "timer_start"
    assert m.session.maps["timers"].lookup(0)[:8] == bytes(8)       # not fired by itself
    start = m.session.time_ns
    assert m.fire_timers() == 1
    assert int.from_bytes(m.session.maps["timers"].lookup(0)[:8], "little") == 1
    assert m.session.time_ns == start + 1000
    assert m.fire_timers() == 0                                       # one shot


def test_a_second_init_is_ebusy() -> None:
    m, prog = _timer_machine()
    m.run(prog, packet=bytes(14))
    assert m.run(prog, packet=bytes(14)).retval == errno.EBUSY        # init -EBUSY; set and start work


def test_timer_errors() -> None:
    session = Session()
    timers = session.create_map(_MapSpec("timers", MapType.ARRAY, 4, 24, 2))
    m = Machine(session)
    bad_clock = m.load(_with_callback(_timer_prog(init_flags=2)), name="a", prog_type=ProgType.XDP, maps=[timers])
    # init -EINVAL, then set_callback and start on an uninitialised timer: -EINVAL each
    assert m.run(bad_clock, packet=bytes(14)).retval == errno.EINVAL * (1 + (1 << 8) + (1 << 16))
    bad_flags = m.load(_with_callback(_timer_prog(start_flags=4)), name="b", prog_type=ProgType.XDP, maps=[timers])
    assert m.run(bad_flags, packet=bytes(14)).retval == errno.EINVAL << 16


def test_cancel_reports_a_pending_timer_and_drops_its_callback() -> None:
    m, prog = _timer_machine()
    m.run(prog, packet=bytes(14))
    cancel = TIMER_OF_ELEMENT_0 + f"""
        r1 = r6
        call {_h("bpf_timer_cancel")}
        r7 = r0
        r1 = r6
        r2 = 10
        r3 = 0
        call {_h("bpf_timer_start")}
        r0 <<= 8
        r0 |= r7
    out:
        exit
    """
    c = m.load(assemble(cancel), name="cancel", prog_type=ProgType.XDP, maps=[m.session.maps["timers"]])
    assert m.run(c, packet=bytes(14)).signed == (-errno.EINVAL << 8) | 1   # was pending; no callback now
    assert m.fire_timers() == 0


def _update_element_0(session: Session, m: Machine, *, delete: bool = False) -> int:
    """A program's update (or delete) of element 0 of the timers map: r0 = the helper's result."""
    call = (f"call {_h('bpf_map_delete_elem')}" if delete else f"""r3 = r10
        r3 += -32
        r4 = 0
        call {_h('bpf_map_update_elem')}""")
    text = f"""
        r1 = 0
        *(u32 *)(r10 - 4) = r1
        *(u64 *)(r10 - 32) = r1
        *(u64 *)(r10 - 24) = r1
        *(u64 *)(r10 - 16) = r1
        ld_pseudo r1, 1, 0
        r2 = r10
        r2 += -4
        {call}
        exit
    """
    prog = m.load(assemble(text), name="del" if delete else "upd", prog_type=ProgType.XDP,
                  maps=[session.maps["timers"]])
    return m.run(prog, packet=bytes(14)).signed


def test_a_programs_update_of_the_element_frees_its_timer() -> None:
    # array_map_update_elem -> bpf_obj_free_fields: the pending timer is cancelled and freed
    m, prog = _timer_machine()
    m.run(prog, packet=bytes(14))
    assert _update_element_0(m.session, m) == 0
    assert m.fire_timers() == 0
    assert m.run(prog, packet=bytes(14)).retval == 0     # init again works (no -EBUSY): it was freed
    assert m.fire_timers() == 1


def test_deleting_a_hash_element_frees_its_timer() -> None:
    session = Session()
    timers = session.create_map(_MapSpec("timers", MapType.HASH, 4, 24, 2))
    m = Machine(session)
    prog = m.load(_with_callback(_timer_prog()), prog_type=ProgType.XDP, maps=[timers])
    timers.update(0, bytes(24))
    assert m.run(prog, packet=bytes(14)).retval == 0
    assert _update_element_0(session, m, delete=True) == 0
    assert session.timers == {}
    assert m.fire_timers() == 0
    assert _update_element_0(session, m, delete=True) == -errno.ENOENT


# --- cgroup storage and socket options -----------------------------------------------------------

STORAGE = f"""
    ld_pseudo r1, 1, 0
    r2 = 0
    call {_h("bpf_get_local_storage")}
    r1 = *(u64 *)(r0 + 0)
    r1 += 1
    *(u64 *)(r0 + 0) = r1
    r0 = r1
    exit
"""


@pytest.mark.parametrize("map_type", [MapType.CGROUP_STORAGE, MapType.PERCPU_CGROUP_STORAGE])
def test_cgroup_storage_is_one_value_per_cgroup_and_attach_type(map_type: MapType) -> None:
    session = Session(cgroup_id=42)
    storage = session.create_map(_MapSpec("st", map_type, 16, 8, 0))
    m = Machine(session)
    ingress = m.load(assemble(STORAGE), name="in", prog_type=ProgType.CGROUP_SKB, attach_type=0, maps=[storage])
    egress = m.load(assemble(STORAGE), name="out", prog_type=ProgType.CGROUP_SKB, attach_type=1, maps=[storage])
    assert [m.run(ingress, packet=bytes(14)).retval for _ in range(3)] == [1, 2, 3]
    assert m.run(egress, packet=bytes(14)).retval == 1
    key = struct.pack("<QI", 42, 0) + bytes(4)
    value = storage.lookup(key)
    got = value[0] if isinstance(value, tuple) else value
    assert int.from_bytes(got, "little") == 3


def _sockopt(helper: str, level: int, optname: int, value: int | None = None, optlen: int = 4) -> str:
    store = f"r2 = {value if value is not None else 0x5555}\n*(u32 *)(r10 - 8) = r2"
    return f"""
        {store}
        r2 = {level}
        r3 = {optname}
        r4 = r10
        r4 += -8
        r5 = {optlen}
        call {_h(helper)}
    """


def _sockopt_prog(*calls: str) -> str:
    """Each call's r0 into r6.. r9; r0 = the value at fp-8 after the last call."""
    body = []
    for i, call in enumerate(calls):
        body.append(f"r6 = r1\n{call}\n*(u64 *)(r10 - {16 + 8 * i}) = r0\nr1 = r6")
    return "\n".join(body) + "\nr0 = *(u32 *)(r10 - 8)\nexit"


def test_setsockopt_then_getsockopt_reads_the_value_back() -> None:
    text = _sockopt_prog(_sockopt("bpf_setsockopt", 6, 1, 1), _sockopt("bpf_getsockopt", 6, 1))
    session = Session()
    m = Machine(session)
    prog = m.load(assemble(text), prog_type=ProgType.SOCK_OPS, attach_type=3)
    assert m.run(prog, ctx=None, args=[4]).retval == 1          # TCP_NODELAY set, then read
    assert session.sockopts == {(6, 1): (1).to_bytes(4, "little")}


@pytest.mark.parametrize("level, optname, optlen, family, protocol, err", [
    (1, 7, 4, 2, 6, 0),                  # SO_SNDBUF
    (1, 7, 8, 2, 6, -errno.EINVAL),      # wrong length
    (1, 99, 4, 2, 6, -errno.EINVAL),     # not an option programs may set
    (0, 1, 4, 2, 6, 0),                  # IP_TOS on AF_INET
    (0, 1, 4, 10, 6, -errno.EINVAL),     # ... not on AF_INET6
    (41, 67, 4, 10, 6, 0),               # IPV6_TCLASS
    (6, 1, 4, 2, 17, -errno.EINVAL),     # SOL_TCP on a UDP socket
    (6, 1002, 4, 2, 6, -errno.EINVAL),   # TCP_BPF_SNDCWND_CLAMP of 0
    (99, 1, 4, 2, 6, -errno.EINVAL),     # unknown level
])
def test_setsockopt_follows_the_kernels_option_table(level: int, optname: int, optlen: int, family: int,
                                                      protocol: int, err: int) -> None:
    text = _sockopt("bpf_setsockopt", level, optname, 0, optlen) + "\nexit"
    m = Machine(Session(socket_family=family, socket_protocol=protocol))
    prog = m.load(assemble(text), prog_type=ProgType.SOCK_OPS, attach_type=3)
    assert m.run(prog, args=[4, 0]).signed == err


def test_getsockopt_zeroes_the_buffer_on_error_and_sock_ops_late_callbacks_cannot_set() -> None:
    text = _sockopt_prog(_sockopt("bpf_getsockopt", 1, 25))          # SO_BINDTODEVICE: set-only
    m = Machine()
    prog = m.load(assemble(text), prog_type=ProgType.SOCK_OPS, attach_type=3)
    assert m.run(prog, args=[4]).retval == 0
    late = _sockopt("bpf_setsockopt", 6, 1, 1) + "\nexit"
    prog = m.load(assemble(late), name="late", prog_type=ProgType.SOCK_OPS, attach_type=3)
    assert m.run(prog, args=[16]).signed == -errno.EOPNOTSUPP        # op 16: past WRITE_HDR_OPT_CB


# --- the same programs in the kernel -------------------------------------------------------------

EFFECTS = Path(__file__).resolve().parent / "effects" / "effects.bpf.c"
#: timer_codes: each helper's errno at its own bits (see effects.bpf.c)
TIMER_CODES = (errno.EBUSY << 6 | errno.EINVAL << 12 | 1 << 20 | errno.EINVAL << 22
               | errno.EINVAL << 27)


@pytest.fixture(scope="module")
def effects_obj(compile_bpf) -> Path:
    return compile_bpf(EFFECTS)


def test_timer_helpers_return_the_kernels_codes(effects_obj: Path) -> None:
    obj = load(effects_obj)
    assert obj.run("timer_codes", packet=bytes(64)).retval & 0xFFFFFFFF == TIMER_CODES
    assert obj.machine.fire_timers() == 0          # cancelled: nothing pending


def test_cgroup_storage_counts_across_runs(effects_obj: Path) -> None:
    obj = load(effects_obj)
    assert [obj.run("count_egress", packet=bytes(64)).retval for _ in range(3)] == [0, 0, 1]


@pytest.mark.kernel
def test_the_kernel_gives_the_same_timer_codes(effects_obj: Path, requires_kernel) -> None:
    assert kernel_retval(effects_obj, "timer_codes", bytes(64)) == TIMER_CODES


@pytest.mark.kernel
def test_the_kernel_keeps_cgroup_storage_across_repetitions(effects_obj: Path, requires_kernel) -> None:
    # test_run allocates the storage once for all repetitions: the third packet sees 3
    assert kernel_retval(effects_obj, "count_egress", bytes(64), repeat=3) == 1
    assert kernel_retval(effects_obj, "count_egress", bytes(64)) == 0


# --- the same through a test spec -----------------------------------------------------------------

def test_a_spec_sets_func_args_and_paths_checks_effects_and_fires_timers(compile_bpf) -> None:
    from bpfbuild.obj.loader import load_object_file
    from bpfbuild.vm import load_spec, run_spec

    obj = compile_bpf(EFFECTS.parent / "tracer.bpf.c")
    result = run_spec(load_spec(EFFECTS.parent / "tracer.test.toml"), load_object_file(obj))
    assert result.ok, "\n".join(f.render() for f in result.failures)


def test_a_spec_reports_a_missing_effect(compile_bpf, tmp_path: Path) -> None:
    from bpfbuild.obj.loader import load_object_file
    from bpfbuild.vm import load_spec, run_spec

    obj = compile_bpf(EFFECTS.parent / "tracer.bpf.c")
    spec = (EFFECTS.parent / "tracer.test.toml").read_text().replace("args = [3, 0xffff888000100000, -2]",
                                                                    "args = [3, 0xffff888000100000, 0]")
    (tmp_path / "tracer.test.toml").write_text(spec)
    result = run_spec(load_spec(tmp_path / "tracer.test.toml"), load_object_file(obj))
    messages = [f.render() for f in result.failures]
    assert any("effects: expected 1, got 0" in m for m in messages), messages


# --- socket lookups --------------------------------------------------------------------------------

SKLOOKUP = EFFECTS.parent / "sklookup.bpf.c"
TCP_LISTEN, TCP_CLOSE = 10, 7


@pytest.fixture(scope="module")
def sklookup_obj(compile_bpf) -> Path:
    return compile_bpf(SKLOOKUP)


def _emulated_lookup(obj_path: Path, name: str, port: int, sockets: list) -> int:
    obj = load(obj_path, sockets=sockets)
    obj.globals.port = port
    return obj.run(name, packet=bytes(64)).retval


def test_a_tcp_lookup_finds_the_listener_then_the_established_socket(sklookup_obj: Path) -> None:
    listener = {"protocol": "tcp", "src": "0.0.0.0", "sport": 8080}
    assert _emulated_lookup(sklookup_obj, "find_tcp", 8080, [listener]) == 8080 | TCP_LISTEN << 16 | 6 << 24
    conn = {"protocol": "tcp", "src": "127.0.0.1", "sport": 8080, "dst": "127.0.0.1", "dport": 40000}
    assert _emulated_lookup(sklookup_obj, "find_tcp", 8080, [listener, conn]) == 8080 | 1 << 16 | 6 << 24
    assert _emulated_lookup(sklookup_obj, "find_tcp", 8081, [listener, conn]) == 0
    assert _emulated_lookup(sklookup_obj, "find_udp", 8080, [listener]) == 0


def test_a_udp_lookup_finds_a_bound_socket_and_a_bad_tuple_size_finds_nothing(sklookup_obj: Path) -> None:
    bound = {"protocol": "udp", "src": "127.0.0.1", "sport": 5353}
    assert _emulated_lookup(sklookup_obj, "find_udp", 5353, [bound]) == 5353 | TCP_CLOSE << 16 | 17 << 24
    assert _emulated_lookup(sklookup_obj, "bad_size", 5353, [bound]) == 7


def test_the_spec_rejects_a_bad_socket_table() -> None:
    from bpfbuild.errors import SpecError
    from bpfbuild.vm.socktable import parse_sockets

    with pytest.raises(SpecError, match=r"sockets\[0\].sport"):
        parse_sockets([{"protocol": "tcp", "src": "10.0.0.1", "sport": 70000}])
    with pytest.raises(SpecError, match="protocol"):
        parse_sockets([{"protocol": "sctp", "src": "10.0.0.1", "sport": 1}])


@pytest.mark.kernel
@pytest.mark.parametrize("name, kind", [("find_tcp", "tcp"), ("find_udp", "udp"), ("bad_size", "tcp")])
def test_the_kernel_finds_the_same_sockets(sklookup_obj: Path, name: str, kind: str, requires_kernel) -> None:
    import socket

    from bpfbuild.kernel.hooks import test_run

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    try:
        sock.bind(("127.0.0.1", 0))
        if kind == "tcp":
            sock.listen(1)
        port = sock.getsockname()[1]
        got = test_run(sklookup_obj, name, packet=bytes(64), rodata={"port": port}).retval
    finally:
        sock.close()
    world = [{"protocol": kind, "src": "127.0.0.1", "sport": port}]
    assert got == _emulated_lookup(sklookup_obj, name, port, world)
    assert got != 0


# --- kptrs -------------------------------------------------------------------------------------

def test_kptr_xchg_stores_the_new_pointer_and_returns_the_old() -> None:
    # an 8-byte "map value" on the stack holds 0x1111; swap in 0x2222, return old | new << 32
    text = f"""
        r1 = 0x1111
        *(u64 *)(r10 - 8) = r1
        r1 = r10
        r1 += -8
        r2 = 0x2222
        call {_h("bpf_kptr_xchg")}
        r1 = *(u64 *)(r10 - 8)
        r1 <<= 32
        r0 |= r1
        exit
    """
    assert _run(text, prog_type=ProgType.XDP, attach_type=None, packet=bytes(14))[0] == 0x1111 | 0x2222 << 32
