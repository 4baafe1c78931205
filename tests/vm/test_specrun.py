"""The specs of programs/ pass in the emulator; broken programs and specs fail with readable messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpfbuild.errors import SpecError
from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm import load_spec, parse_spec, run_spec, smoke_run

from .conftest import PROGRAMS, REPO, Compiler


def test_every_program_has_a_spec(program_objects: dict[str, Path], program_specs: dict[str, Path]) -> None:
    assert sorted(program_objects) == sorted(program_specs)


@pytest.mark.parametrize("name", sorted(p.name[: -len(".test.toml")] for p in PROGRAMS.glob("*.test.toml")))
def test_program_spec_passes(name: str, program_objects: dict[str, Path], program_specs: dict[str, Path]) -> None:
    spec = load_spec(program_specs[name], display=f"programs/{name}.test.toml")
    result = run_spec(spec, load_object_file(program_objects[name]))
    assert result.ok, "\n".join(f.render(REPO) for f in result.failures)
    assert len(result.cases) >= 4   # real specs: several behaviours each
    assert all(c.runs for c in result.cases)


def test_core_task_spec_passes_with_the_kernels_task_struct(compile_bpf: Compiler, tmp_path: Path,
                                                            program_specs: dict[str, Path]) -> None:
    """Built against build/vmlinux.h (the running kernel's task_struct, real_parent at a large
    offset), the object lays out kernel_memory by its own BTF and still finds the fields."""
    vmlinux_btf = Path("/sys/kernel/btf/vmlinux")
    if not vmlinux_btf.exists():
        pytest.skip("no /sys/kernel/btf/vmlinux to make vmlinux.h from")
    from bpfbuild.skel.btfdump import write_vmlinux_header

    inc = tmp_path / "inc"
    inc.mkdir()
    write_vmlinux_header(inc / "vmlinux.h", str(vmlinux_btf))
    obj = compile_bpf(PROGRAMS / "core_task.bpf.c", "core_task_vmlinux.bpf.o", extra=[f"-I{inc}"])
    spec = load_object_file(obj)
    offsets = {m.name: m.bit_offset // 8 for m in spec.btf.type(spec.btf.find("task_struct")[0]).members
               if m.name in ("tgid", "real_parent")}
    assert offsets["real_parent"] > 8   # the kernel's layout, not the fallback's
    result = run_spec(load_spec(program_specs["core_task"]), spec)
    assert result.ok, "\n".join(f.render(REPO) for f in result.failures)


# --- broken programs --------------------------------------------------------------------------

def _broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    source = (PROGRAMS / f"{name}.bpf.c").read_text()
    assert old in source
    (tmp_path / "parsing.h").write_text((PROGRAMS / "parsing.h").read_text())
    path = tmp_path / f"{name}.bpf.c"
    path.write_text(source.replace(old, new))
    return path


def test_a_broken_tc_port_filter_fails_its_spec_readably(compile_bpf: Compiler, tmp_path: Path,
                                                         program_specs: dict[str, Path]) -> None:
    src = _broken_copy(tmp_path, "tc_port_filter", "return TC_ACT_SHOT;", "return TC_ACT_OK;")
    obj = compile_bpf(src, "tc_broken.bpf.o")
    spec_text = program_specs["tc_port_filter"].read_text()
    spec = parse_spec(spec_text, "programs/tc_port_filter.test.toml")
    result = run_spec(spec, load_object_file(obj))
    assert not result.ok
    assert result.summary().endswith("FAILED")
    first = result.failures[0]
    rendered = first.render(tmp_path)
    lines = rendered.splitlines()
    # the first line points at the expectation in the spec, as file:line:col
    line_no = spec_text.splitlines().index('expect.retval = "TC_ACT_SHOT"') + 1
    assert lines[0] == (f'programs/tc_port_filter.test.toml:{line_no}:1: error: case "{first.case}": '
                        "retval: expected TC_ACT_SHOT (2), got TC_ACT_OK (0)")
    # then the source line of the last instruction executed (relative to the root given)
    assert lines[1].startswith("tc_port_filter.bpf.c:")
    assert "note: last instruction executed: insn" in lines[1] and "`exit`" in lines[1]
    assert "expected: TC_ACT_SHOT (2)" in rendered and "got:      TC_ACT_OK (0)" in rendered
    assert "printk:   (none)" in rendered
    # the counter still counts in the broken copy: only the return values are reported
    assert all("retval" in f.message for f in result.failures)


def test_a_broken_hello_fails_on_printk_and_counter(compile_bpf: Compiler, tmp_path: Path,
                                                    program_specs: dict[str, Path]) -> None:
    src = _broken_copy(tmp_path, "hello", "counter++;", "counter += 2;")
    result = run_spec(load_spec(program_specs["hello"]), load_object_file(compile_bpf(src, "hello_broken.bpf.o")))
    messages = [f.message for f in result.failures]
    assert "printk lines differ" in messages
    assert "global counter: expected 3, got 6" in messages
    printk = next(f for f in result.failures if f.message == "printk lines differ")
    assert printk.actual == "Hello World 0\nHello World 2\nHello World 4"
    assert printk.last is not None and printk.last.file.endswith("hello.bpf.c")


def test_a_broken_proto_count_names_the_map_difference(compile_bpf: Compiler, tmp_path: Path,
                                                       program_specs: dict[str, Path]) -> None:
    src = _broken_copy(tmp_path, "xdp_proto_count", "proto = ip6->nexthdr;", "proto = 255;")
    result = run_spec(load_spec(program_specs["xdp_proto_count"]),
                      load_object_file(compile_bpf(src, "xdp_proto_count_broken.bpf.o")))
    messages = [f.message for f in result.failures]
    assert any(m.startswith("map proto_count: 58: missing (expected 1)") for m in messages), messages
    assert any("255: unexpected element (value 1)" in (f.actual or "") for f in result.failures)


def test_a_program_that_faults_reports_the_faulting_source_line(compile_bpf: Compiler, tmp_path: Path) -> None:
    src = _broken_copy(tmp_path, "hello-func", "return ctx->args[1];", "return ctx->args[3];")
    obj = load_object_file(compile_bpf(src, "hello_func_broken.bpf.o"))
    spec = parse_spec('program = "hello"\n[[case]]\nname = "two args"\nargs = [0, 59]\n'
                      'expect.printk = ["Syscall: 59"]\n', "spec.toml")
    result = run_spec(spec, obj)
    (failure,) = result.failures
    assert failure.message.startswith("the program faulted: ")
    assert "past the end of ctx" in failure.message
    assert failure.last is not None and failure.last.file.endswith("hello-func.bpf.c") and failure.last.line == 6
    assert failure.location is not None and (failure.location.file, failure.location.line) == ("spec.toml", 2)


# --- spec errors at run time --------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message", "line"), [
    ('[[case]]\nglobals = { nope = 1 }\n', "no global variable 'nope'", 2),
    ('[[case]]\nexpect.globals = { counter = "x" }\n', "expected an integer", 2),
    ('[[case]]\nexpect.retval = "TC_ACT_OK"\n', "'TC_ACT_OK' is not a return value of xdp programs", 2),
    ('[[case]]\nprogram = "other"\n', "no program 'other'", 1),
    ('[[case]]\nmaps.nomap = { 1 = 2 }\n', "no map 'nomap'", 2),
])
def test_spec_errors_found_when_running_point_at_the_key(program_objects: dict[str, Path], text: str,
                                                         message: str, line: int) -> None:
    spec = parse_spec(text, "hello.test.toml")
    with pytest.raises(SpecError, match=message) as info:
        run_spec(spec, load_object_file(program_objects["hello"]))
    assert info.value.location is not None and info.value.location.line == line
    assert str(info.value).startswith(f"hello.test.toml:{line}:")


def test_expected_fault_that_does_not_happen_fails(program_objects: dict[str, Path]) -> None:
    spec = parse_spec('program = "hello"\n[[case]]\nargs = [1, 2]\nexpect.error = "past the end"\n', "s.toml")
    result = run_spec(spec, load_object_file(program_objects["hello-func"]))
    (failure,) = result.failures
    assert failure.message == "no run faulted"


def test_map_expectations_are_exact_for_hash_maps(program_objects: dict[str, Path]) -> None:
    text = ('[[case]]\nmaps.proto_count = { 6 = 5, 99 = 1 }\npacket = { eth = {}, ipv4 = {}, tcp = {} }\n'
            'expect.maps.proto_count = { 6 = 6 }\n')
    result = run_spec(parse_spec(text, "s.toml"), load_object_file(program_objects["xdp_proto_count"]))
    (failure,) = result.failures
    assert failure.message == "map proto_count: 99: unexpected element (value 1)"


# --- smoke runs --------------------------------------------------------------------------------

def test_smoke_run_runs_every_program_once(program_objects: dict[str, Path]) -> None:
    result = smoke_run(load_object_file(program_objects["xdp_tail_call"]))
    assert result.ok and result.spec_path is None
    assert sorted(c.name for c in result.cases) == ["xdp_dispatch", "xdp_udp_handler"]
    assert result.summary().startswith("no spec (smoke run passed: ")
    assert "xdp_udp_handler returned XDP_DROP (1)" in result.summary()


def test_smoke_run_fails_on_a_fault(compile_bpf: Compiler, tmp_path: Path) -> None:
    src = tmp_path / "bad.bpf.c"
    src.write_text('#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n'
                   'SEC("xdp") int bad(struct xdp_md *ctx) { return *(int *)(long)ctx->data_end; }\n'
                   'char LICENSE[] SEC("license") = "GPL";\n')
    result = smoke_run(load_object_file(compile_bpf(src)))
    assert not result.ok
    (failure,) = result.failures
    assert "the program faulted" in failure.message and "packet" in failure.message
    assert failure.render().startswith('error: case "smoke run of bad": the program faulted')
    assert "bad.bpf.c:3" in failure.render()


def test_an_expected_fault_in_a_run_still_checks_the_state_before_it(program_objects: dict[str, Path]) -> None:
    text = ('[[case]]\nexpect.globals = { counter = 2 }\n'
            '[[case.run]]\nrepeat = 2\n'
            '[[case.run]]\nctx = { meta = "01" }\nexpect.error = "bad context"\n')
    result = run_spec(parse_spec(text, "s.toml"), load_object_file(program_objects["hello"]))
    assert result.ok, [f.message for f in result.failures]
    bad = parse_spec(text.replace("counter = 2", "counter = 3"), "s.toml")
    (failure,) = run_spec(bad, load_object_file(program_objects["hello"])).failures
    assert failure.message == "global counter: expected 3, got 2"


def test_overlapping_kernel_memory_is_a_spec_error(program_objects: dict[str, Path]) -> None:
    text = '[[case]]\nkernel_memory = [{ address = 16, hex = "0000" }, { address = 17, hex = "00" }]\n'
    with pytest.raises(SpecError, match="overlaps the entry at 0x11") as info:
        run_spec(parse_spec(text, "s.toml"), load_object_file(program_objects["core_task"]))
    assert info.value.location is not None and info.value.location.line == 2
