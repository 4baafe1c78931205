"""``bpfbuild run``: printk lines, the return value by name, changed globals and maps, --trace, --json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bpfbuild.cli import main

from .conftest import REPO


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["run", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_hello_repeat_3(program_objects: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(program_objects["hello"]), "--repeat", "3")
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "Hello World 0",
        "Hello World 1",
        "Hello World 2",
        "hello returned XDP_PASS (2) after 30 instructions (3 runs)",
        "  counter: 0 -> 3",
    ]


def test_hello_func_prints_args_1(program_objects: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(program_objects["hello-func"]), "--args", "0,0x3b")
    assert code == 0
    assert out.splitlines()[:2] == ["Syscall: 59", "hello returned 0 after 9 instructions"]


def test_layers_set_and_map_seeds(program_objects: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(program_objects["tc_port_filter"]), "--set", "blocked_port=53",
                       "--packet", "{eth = {}, ipv4 = {}, udp = {dport = 53}}")
    assert code == 0
    assert "tc_port_filter returned TC_ACT_SHOT (2)" in out
    assert "  blocked_port: 9 -> 53" not in out   # set before the run: not a change the run made
    assert "  dropped: 0 -> 1" in out and "packet out: eth" in out
    code, out, _ = run(capsys, str(program_objects["xdp_tail_call"]), "xdp_dispatch",
                       "--map", 'handlers[17]="xdp_udp_handler"', "--packet", "{eth={}, ipv4={}, udp={}}")
    assert "xdp_dispatch returned XDP_DROP (1)" in out and "  udp_seen: 0 -> 1" in out
    code, out, _ = run(capsys, str(program_objects["xdp_proto_count"]), "--packet",
                       "{eth={}, ipv6={}, icmpv6={}}", "--repeat", "2")
    assert "  proto_count[58]: (none) -> 2" in out


def test_world_and_records(program_objects: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(program_objects["exec_events"]), "--world", "tgid=7", "--world", "comm=sh")
    assert code == 0
    assert "  events: 1 record" in out and "    07000000e8030000" in out


def test_trace(program_objects: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(program_objects["hello"]), "--trace")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "-- hello"
    assert lines[1].startswith("   0: r6 = &hello.bss ll") and "r6 = &hello.bss[0]" in lines[1]
    assert lines[1].endswith("hello.bpf.c:9")
    assert "   6: call 6  ; bpf_trace_printk" in lines[5] and "r0 = 13" in lines[5]
    assert lines[6] == "      printk: Hello World 0"
    assert "*(&hello.bss[0]) = 1" in lines[9]
    assert lines[-3].startswith("  11: exit")
    assert lines[-2:] == ["hello returned XDP_PASS (2) after 10 instructions", "  counter: 0 -> 1"]


def test_json(program_objects: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(program_objects["hello"]), "--json", "--trace", "--repeat", "2")
    data = json.loads(out)
    assert code == 0
    assert (data["retval"], data["retval_name"], data["runs"], data["steps"]) == (2, "XDP_PASS", 2, 20)
    assert data["printk"] == ["Hello World 0", "Hello World 1"]
    assert data["globals_changed"] == {"counter": [0, 2]}
    assert len(data["trace"]) == 20 and data["trace"][4]["printk"] == ["Hello World 0"]
    assert data["trace"][10]["run"] == 2


def test_a_fault_exits_1_with_the_source_line(program_objects: dict[str, Path],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(program_objects["hello-func"]), "--args", "1")
    assert code == 1 and out == ""
    assert "hello-func.bpf.c:6:" in err and "error: insn 8" in err and "past the end of ctx" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--args", "x"], "--args: expected numbers"),
    (["--set", "nope=1"], "no global 'nope'"),
    (["--packet", "{eth = {}, ipv9 = {}}"], "unknown packet layer 'ipv9'"),
    (["--repeat", "0"], "--repeat must be at least 1"),
    (["--world", "pid"], "expected NAME=VALUE"),
    (["--ctx", "mark=1"], "XdpContext has no field 'mark'"),
])
def test_bad_input_exits_2(program_objects: dict[str, Path], capsys: pytest.CaptureFixture[str],
                           argv: list[str], message: str) -> None:
    code, _, err = run(capsys, str(program_objects["hello"]), *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_several_programs_need_a_name(program_objects: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(program_objects["xdp_tail_call"]))
    assert code == 2 and "has 2 programs: name one (xdp_udp_handler, xdp_dispatch)" in err


def test_the_command_line(program_objects: dict[str, Path]) -> None:
    res = subprocess.run([sys.executable, "-m", "bpfbuild", "run", str(program_objects["hello"]), "--repeat", "3"],
                         capture_output=True, text=True, check=False, cwd=REPO)
    assert res.returncode == 0 and res.stdout.startswith("Hello World 0\nHello World 1\nHello World 2\n")


def test_run_prints_the_effects_outside_the_program(compile_bpf, capsys: pytest.CaptureFixture[str]) -> None:
    obj = compile_bpf(Path(__file__).resolve().parent / "effects" / "tracer.bpf.c")
    argv = [str(obj), "unlink_exit", "--args", "3,0xffff888000100000,-2",
            "--world", 'paths={"0xffff888000100000"="/tmp/x"}']
    code, out, err = run(capsys, *argv)
    assert code == 0 and err == ""
    assert out.splitlines()[-1] == '  signal: sig=9 scope="process" pid=4242'
    code, out, _ = run(capsys, *argv, "--json", "--repeat", "2")     # one signal per run
    assert code == 0
    assert json.loads(out)["effects"] == [{"effect": "signal", "sig": 9, "scope": "process", "pid": 4242}] * 2
    code, out, _ = run(capsys, str(obj), "unlink_exit", "--args", "3,0,0")   # unlink succeeded: no signal
    assert code == 0 and "signal" not in out
