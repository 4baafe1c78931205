"""The Machine API on the programs of programs/ (compiled here) and on small assembled ones."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.errors import format_error
from bpfbuild.isa import assemble
from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm import ArgsContext, Machine, Session, SkbContext, VMError, XdpContext

REPO = Path(__file__).resolve().parents[2]
XDP_PASS, XDP_DROP = 2, 1
TC_ACT_OK, TC_ACT_SHOT = 0, 2


@pytest.fixture(scope="session")
def objects(bpf_cc, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """programs/*.bpf.c compiled as doit compiles them (``bpf_cc``: clang, else zig's)."""
    out = tmp_path_factory.mktemp("vmobj")
    for src in sorted((REPO / "programs").glob("*.bpf.c")):
        obj = out / src.name.replace(".bpf.c", ".bpf.o")
        res = bpf_cc.run(src, obj, include_dirs=[REPO / "programs"])
        if res.returncode:
            pytest.skip(f"cannot compile {src.name}: {res.stderr[-300:]}")
    return out


def machine_for(objects: Path, name: str, session: Session | None = None) -> Machine:
    return Machine.from_object(load_object_file(objects / f"{name}.bpf.o"), session=session)


def ipv4(proto: int, dport: int) -> bytes:
    eth = bytes(6) + bytes.fromhex("020000000001") + b"\x08\x00"
    if proto == 6:   # TCP: a 20-byte header
        l4 = struct.pack("!HHIIBBHHH", 1234, dport, 0, 0, 0x50, 0x02, 1024, 0, 0)
    else:
        l4 = struct.pack("!HHHH", 1234, dport, 8, 0)
    ip = bytes([0x45, 0, 0, 20 + len(l4), 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])
    return eth + ip + l4


def test_hello_prints_and_counts(objects: Path) -> None:
    m = machine_for(objects, "hello")
    results = [m.run("hello", packet=bytes(64)) for _ in range(3)]
    assert [r.printk for r in results] == [("Hello World 0",), ("Hello World 1",), ("Hello World 2",)]
    assert all(r.retval == XDP_PASS for r in results)
    assert m.session.map("hello.bss").lookup(0) == (3).to_bytes(4, "little")
    assert m.session.printk == ["Hello World 0", "Hello World 1", "Hello World 2"]
    assert results[0].steps == 10


def test_hello_func_prints_its_argument(objects: Path) -> None:
    m = machine_for(objects, "hello-func")
    result = m.run("hello", ArgsContext((1, 59, 3)))
    assert result.printk == ("Syscall: 59",)
    assert result.retval == 0


def test_tc_port_filter_drops_the_blocked_port(objects: Path) -> None:
    m = machine_for(objects, "tc_port_filter")
    assert m.run("tc_port_filter", SkbContext(ipv4(17, 9))).retval == TC_ACT_SHOT
    assert m.run("tc_port_filter", SkbContext(ipv4(6, 9))).retval == TC_ACT_SHOT
    assert m.run("tc_port_filter", SkbContext(ipv4(17, 53))).retval == TC_ACT_OK
    assert m.run("tc_port_filter", SkbContext(ipv4(1, 9))).retval == TC_ACT_OK
    dropped = m.session.map("tc_port_.bss").lookup(0)
    assert int.from_bytes(dropped, "little") == 2
    # the loader's choice of port lives in .rodata: change it before the run, as a skeleton does
    m.session.map("tc_port_.rodata").update(0, (53).to_bytes(2, "little"))
    assert m.run("tc_port_filter", SkbContext(ipv4(17, 53))).retval == TC_ACT_SHOT


def test_rodata_is_read_only_for_programs(objects: Path) -> None:
    m = machine_for(objects, "tc_port_filter")
    rodata = m.session.map("tc_port_.rodata")
    prog = m.load(assemble("ld_pseudo r1, 2, 0\nr2 = 1\n*(u16 *)(r1 + 0) = r2\nr0 = 0\nexit"),
                  name="writer", maps=[rodata])
    with pytest.raises(VMError, match="read-only"):
        m.run(prog)


def test_xdp_proto_count_counts_per_protocol(objects: Path) -> None:
    m = machine_for(objects, "xdp_proto_count")
    for proto in (17, 17, 6, 1, 17):
        assert m.run("xdp_proto_count", XdpContext(ipv4(proto, 80))).retval == XDP_PASS
    counts = {int.from_bytes(k, "little"): int.from_bytes(v, "little") for k, v in m.maps["proto_count"].items()}
    assert counts == {17: 3, 6: 1, 1: 1}


def test_xdp_tail_call_dispatches_through_the_program_array(objects: Path) -> None:
    m = machine_for(objects, "xdp_tail_call")
    handlers = m.maps["handlers"]
    handlers.update(17, m.program("xdp_udp_handler"))
    udp = ipv4(17, 53)
    assert m.run("xdp_dispatch", XdpContext(udp)).retval == XDP_DROP        # tail-called the UDP handler
    assert m.run("xdp_dispatch", XdpContext(ipv4(6, 80))).retval == XDP_PASS  # empty slot: falls through
    bss = m.session.map("xdp_tail.bss").lookup(0)
    checksum, udp_seen = struct.unpack("<I4xQ", bss)
    assert checksum == sum(ipv4(6, 80)[:16])
    assert udp_seen == 1


def test_exec_events_reports_the_session_task(objects: Path) -> None:
    session = Session(pid=77, tgid=70, uid=1001, comm="a-very-long-command-name")
    m = machine_for(objects, "exec_events", session)
    assert m.run("exec_events").retval == 0
    records = m.maps["events"].drain()
    assert records == [struct.pack("<II16s", 70, 1001, b"a-very-long-com")]


def test_a_fault_names_the_source_line(objects: Path) -> None:
    spec = load_object_file(objects / "hello.bpf.o")
    m = Machine()
    m.load_program(spec.program("hello"), maps=[])   # no maps: the first ld_imm64 cannot resolve
    with pytest.raises(VMError) as info:
        m.run("hello")
    text = format_error(info.value)
    assert "hello.bpf.c:" in text and "error: insn 0 " in text and "refers to map #" in text
    assert info.value.location is not None and info.value.pc == 0


def test_budget_is_configurable(objects: Path) -> None:
    m = Machine.from_object(load_object_file(objects / "hello.bpf.o"), budget=5)
    with pytest.raises(VMError, match="budget of 5 instructions"):
        m.run("hello")
    assert m.run("hello", budget=100).retval == XDP_PASS


def test_two_machines_do_not_share_state(objects: Path) -> None:
    a, b = machine_for(objects, "hello"), machine_for(objects, "hello")
    a.run("hello")
    a.run("hello")
    assert b.run("hello").printk == ("Hello World 0",)


def test_machines_sharing_a_session_share_maps(objects: Path) -> None:
    session = Session()
    a, b = machine_for(objects, "hello", session), machine_for(objects, "hello", session)
    a.run("hello")
    assert b.run("hello").printk == ("Hello World 1",)


# --- synthetic programs ----------------------------------------------------------------------

def test_tail_call_limit_is_33() -> None:
    """A program that tail-calls itself runs 1 + 33 times, counting in a global."""
    session = Session()
    counter = session.new_map("count", MapType.ARRAY, 4, 8, 1)
    progs = session.new_map("progs", MapType.PROG_ARRAY, 4, 4, 1)
    m = Machine(session)
    prog = m.load(assemble("""
        r6 = r1
        ld_pseudo r1, 2, 0
        r2 = 1
        lock *(u64 *)(r1 + 0) += r2
        r1 = r6
        ld_pseudo r2, 1, 1
        r3 = 0
        call 12
        r0 = 42
        exit
    """), name="self", prog_type=ProgType.XDP, maps=[counter, progs])
    progs.update(0, prog)
    assert m.run(prog, packet=bytes(14)).retval == 42
    assert int.from_bytes(counter.lookup(0), "little") == 34


def test_bpf_loop_calls_back_until_told_to_stop() -> None:
    m = Machine()
    prog = m.load(assemble("""
        *(u64 *)(r10 - 8) = 0
        r1 = 10
        ld_pseudo r2, 4, 9
        r3 = r10
        r3 += -8
        r4 = 0
        call 181
        r1 = *(u64 *)(r10 - 8)
        r0 <<= 16
        r0 |= r1
        exit
        r3 = *(u64 *)(r2 + 0)
        r3 += r1
        *(u64 *)(r2 + 0) = r3
        r0 = 0
        if r1 != 6 goto +1
        r0 = 1
        exit
    """))
    result = m.run(prog)
    # iterations 0..6 ran (the 7th returned 1): bpf_loop returns 7, the sum is 0+1+...+6
    assert result.retval == (7 << 16) | 21


def _loop_program(nr: int, flags: int) -> tuple:
    return assemble(f"""
        r1 = {nr}
        ld_pseudo r2, 4, 5
        r3 = 0
        r4 = {flags}
        call 181
        exit
        r0 = 0
        exit
    """)


@pytest.mark.parametrize("nr, flags, expected", [((1 << 23) + 1, 0, -7), (3, 1, -22), (0, 0, 0), (5, 0, 5)])
def test_bpf_loop_arguments(nr: int, flags: int, expected: int) -> None:
    m = Machine()
    assert m.run(m.load(_loop_program(nr, flags))).signed == expected


def test_bpf_loop_accepts_8m_iterations_and_counts_them_against_the_budget() -> None:
    m = Machine(budget=1000)
    with pytest.raises(VMError, match="budget of 1000"):
        m.run(m.load(_loop_program(1 << 23, 0)))


def test_callbacks_count_against_the_call_depth() -> None:
    # main -> bpf_loop -> callback (frame 2) -> 6 nested calls (frames 3..8) -> one more: too deep
    calls = "\n".join(f"f{i}:\ncall f{i + 1}\nexit" for i in range(7))
    m = Machine()
    prog = m.load(assemble(f"r1 = 1\nld_pseudo r2, 4, 5\nr3 = 0\nr4 = 0\ncall 181\nexit\n{calls}\nf7:\nr0 = 0\nexit"))
    with pytest.raises(VMError, match="too deep"):
        m.run(prog)


def test_run_without_a_name_needs_exactly_one_program() -> None:
    m = Machine()
    with pytest.raises(VMError, match="has 0"):
        m.run()
    m.load(assemble("r0 = 3\nexit"), name="a")
    assert m.run().retval == 3
    m.load(assemble("r0 = 4\nexit"), name="b")
    with pytest.raises(VMError, match="name the program"):
        m.run()
    with pytest.raises(VMError, match="no program 'c'"):
        m.run("c")


def test_loading_bytes_that_do_not_decode_is_a_vm_error() -> None:
    with pytest.raises(VMError, match="program bad"):
        Machine().load(b"\xff" * 8, name="bad")


def test_a_faulting_run_leaves_the_machine_usable() -> None:
    m = Machine()
    bad = m.load(assemble("call f\nexit\nf:\nr0 = *(u8 *)(r1 + 0)\nexit"), name="bad")
    good = m.load(assemble("r0 = 1\nexit"), name="good")
    with pytest.raises(VMError):
        m.run(bad)
    assert m.runtime.depth == 0
    assert m.run(good).retval == 1


def test_a_fault_in_a_callee_names_the_callee_instruction() -> None:
    m = Machine()
    prog = m.load(assemble("r1 = 0\ncall f\nexit\nf:\nr0 = 1\nr0 = *(u64 *)(r1 + 8)\nexit"))
    with pytest.raises(VMError) as info:
        m.run(prog)
    assert info.value.pc == 4
    assert "r1=0x0" in str(info.value)
