"""Programs shaped like public eBPF projects' (tests/vm/realworld/): the helpers, map types and
typed arguments they use run in the emulator with the kernel's semantics, and what the emulator
lacks is reported as "not emulated" without failing the rest of the object.

Each program has a spec next to it; where BPF_PROG_TEST_RUN runs the program type, a ``kernel``
test runs the same cases in Linux and compares.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bpfbuild.errors import NotEmulated
from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm import load, load_spec, parse_spec, run_spec, smoke_run
from bpfbuild.vm.kobjects import running_kernel_btf

from .conftest import REPO, Compiler

HERE = Path(__file__).resolve().parent / "realworld"
NAMES = sorted(p.name[: -len(".bpf.c")] for p in HERE.glob("*.bpf.c"))
NEEDS_VMLINUX = {"task_fields", "task_iter"}


@pytest.fixture(scope="session")
def vmlinux_include(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bpfbuild.abi.target import Target
    from bpfbuild.skel.btfdump import write_vmlinux_header

    path = Target.running().btf_path
    if path is None or running_kernel_btf() is None:
        pytest.skip("no readable kernel BTF to make vmlinux.h from")
    inc = tmp_path_factory.mktemp("vmlinux-inc")
    write_vmlinux_header(inc / "vmlinux.h", path)
    return inc


@pytest.fixture(scope="session")
def realworld(compile_bpf: Compiler, request: pytest.FixtureRequest) -> dict[str, Path]:
    out = {}
    for name in NAMES:
        extra = []
        if name in NEEDS_VMLINUX:
            extra = [f"-I{request.getfixturevalue('vmlinux_include')}", "-D__TARGET_ARCH_x86"]
        out[name] = compile_bpf(HERE / f"{name}.bpf.c", extra=extra)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_spec_passes(name: str, realworld: dict[str, Path]) -> None:
    spec = load_spec(HERE / f"{name}.test.toml", display=f"tests/vm/realworld/{name}.test.toml")
    result = run_spec(spec, load_object_file(realworld[name]))
    assert result.ok, "\n".join(f.render(REPO) for f in result.failures)
    assert all(c.runs for c in result.cases)


@pytest.mark.parametrize("name", NAMES)
def test_smoke_run_passes_or_names_what_is_missing(name: str, realworld: dict[str, Path]) -> None:
    result = smoke_run(load_object_file(realworld[name]))
    assert result.ok, "\n".join(f.render(REPO) for f in result.failures)
    expected = {"fib_forward": ("bpf_fib_lookup without a route table",),
                "partly_emulated": ("helper bpf_sk_select_reuseport#82",)}.get(name, ())
    assert len(result.not_emulated) == len(expected)
    for missing, wanted in zip(result.not_emulated, expected, strict=True):
        assert missing.startswith(wanted)


# --- not emulated -------------------------------------------------------------------------------

def test_an_unemulated_map_fails_only_what_uses_it(realworld: dict[str, Path]) -> None:
    obj = load(realworld["partly_emulated"])       # a REUSEPORT_SOCKARRAY in the object: it still loads
    assert obj.run("counter").retval == 0 and obj.globals.packets == 1
    with pytest.raises(NotEmulated, match="reuseport_sockarray map socks"):
        obj.maps.socks[0] = 1
    with pytest.raises(NotEmulated, match=r"bpf_sk_select_reuseport#82") as info:
        obj.run("steer")
    assert info.value.pc is not None and info.value.location is not None   # where the program called it
    assert info.value.location.file.endswith("partly_emulated.bpf.c")


def test_a_case_that_needs_what_is_missing_fails_with_that_reason(realworld: dict[str, Path]) -> None:
    spec = parse_spec("""
[[case]]
name = "steering"
program = "steer"
expect.retval = 0

[[case]]
name = "a seeded reuseport array"
program = "counter"
maps.socks = { 0 = 1 }

[[case]]
name = "counting"
program = "counter"
expect.globals = { packets = 1 }
""", path="partly.test.toml")
    result = run_spec(spec, load_object_file(realworld["partly_emulated"]))
    steer, seeded, counting = result.cases
    assert not steer.ok and steer.not_emulated == "helper bpf_sk_select_reuseport#82"
    assert steer.failures[0].message == "not emulated: helper bpf_sk_select_reuseport#82"
    assert not seeded.ok and seeded.failures[0].message == "not emulated: reuseport_sockarray map socks"
    assert "partly.test.toml:7:1: error" in seeded.failures[0].render()
    assert counting.ok
    assert result.summary() == "2 of 3 cases FAILED"


def test_fib_lookup_without_routes_is_not_emulated(realworld: dict[str, Path]) -> None:
    obj = load(realworld["fib_forward"])
    with pytest.raises(NotEmulated, match="bpf_fib_lookup without a route table"):
        obj.run("xdp_router", packet={"eth": {}, "ipv4": {"dst": "10.1.2.3"}, "udp": {}})


def test_bad_routes_are_spec_errors() -> None:
    from bpfbuild.errors import SpecError

    with pytest.raises(SpecError, match=r"x.test.toml:2:1: world.routes\[0\].dst must be a prefix"):
        parse_spec('[world]\nroutes = [{ dst = "10.0.0.300/8" }]\n[[case]]\nname = "c"\n', path="x.test.toml")


def test_task_fields_without_a_target_btf_are_not_emulated(realworld: dict[str, Path]) -> None:
    obj = load(realworld["task_fields"], task={"pid": 3})
    with pytest.raises(NotEmulated, match="needs the target kernel's BTF"):
        obj.run("on_exec", args=[0, 0, 0])


def test_typed_arguments_point_to_zeroed_objects(realworld: dict[str, Path]) -> None:
    """tp_btf's `next` and a kprobe's `struct filename *` are objects, never NULL: the smoke run
    reads next->pid (0) and sees a name pointer."""
    result = smoke_run(load_object_file(realworld["task_fields"]))
    by_name = {c.name: c for c in result.cases}
    assert by_name["on_switch"].obj.globals.switches == 1
    assert by_name["on_switch"].obj.globals.next_pid == 0
    assert by_name["on_switch"].obj.globals.next_parent_tgid == 0   # next->real_parent is next itself
    assert by_name["on_unlink"].obj.globals.name_seen == 1


def test_stack_ids_are_stable_and_readable(realworld: dict[str, Path]) -> None:
    obj = load(realworld["stacks"], kernel_stack=[0x10, 0x20, 0x30], user_stack=[0x40])
    obj.run("sample", repeat=2)
    records = obj.maps.events.records("s64 kern; s64 user; s64 copied; u64 f0; u64 f1; u64 f2; u64 f3")
    assert records[0]["kern"] == records[1]["kern"] >= 0
    assert records[0]["user"] >= 0 and records[0]["user"] != records[0]["kern"]
    stored = obj.maps.stack_traces.raw.lookup(records[0]["kern"])
    assert stored == b"".join(x.to_bytes(8, "little") for x in (0x10, 0x20, 0x30, 0))


def test_jhash2_matches_known_values() -> None:
    """lookup3's published self-test values (hashword of "Four score and seven years ago"
    is for bytes; over no words the hash is the initial value mixed: 0xdeadbeef)."""
    from bpfbuild.vm.maps import jhash2

    assert jhash2([]) == 0xDEADBEEF
    assert jhash2([], 1) == 0xDEADBEF0
    assert jhash2([1, 2, 3]) != jhash2([3, 2, 1])


def test_task_stack_is_the_current_tasks(realworld: dict[str, Path]) -> None:
    """bpf_get_task_stack of the current task copies the session's stack; of another task, nothing."""
    from bpfbuild.isa import assemble
    from bpfbuild.vm import Machine, Session

    session = Session(kernel_stack=[0x11, 0x22])
    machine = Machine(session)
    program = """
r6 = r1
r1 = {task:#x} ll
r2 = r10
r2 += -16
r3 = 16
r4 = 0
call 141
r1 = *(u64 *)(r10 - 16)
r0 += r1
exit
"""
    current = session.current_task
    ours = machine.run(machine.load(assemble(program.format(task=current))), None)
    assert ours.retval == 16 + 0x11
    other = machine.run(machine.load(assemble(program.format(task=current + 0x1000))), None)
    assert other.retval == 0


def test_a_task_member_the_target_lacks_is_a_spec_error(realworld: dict[str, Path]) -> None:
    from bpfbuild.errors import SpecError

    spec = parse_spec('[[case]]\nname = "c"\nprogram = "on_exec"\nworld = { task = { pidd = 1 } }\n',
                      path="t.test.toml")
    with pytest.raises(SpecError, match=r"^t.test.toml:4:1: world.task: struct task_struct: no member 'pidd'"):
        run_spec(spec, load_object_file(realworld["task_fields"]))


def test_an_iterator_smoke_run_gets_its_context_and_writes_its_file(realworld: dict[str, Path]) -> None:
    """iter/task: ctx->meta and ctx->task are zeroed objects of the target's types (not NULL),
    and bpf_seq_printf's text is the iterator file's content."""
    result = smoke_run(load_object_file(realworld["task_iter"]))
    assert result.ok and not result.not_emulated
    case, = result.cases
    assert case.obj.globals.seen_tasks == 1
    assert bytes(case.obj.session.seq_output) == b"0 \n"   # pid 0, empty comm
