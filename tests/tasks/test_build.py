"""`doit` as the Makefile replacement: incremental builds, reasons, errors, parallelism."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from bpfbuild.toolchain import discover as disc


def _have_clang() -> bool:
    try:
        return disc.discover().kind is disc.CompilerKind.CLANG
    except Exception:
        return False


needs_clang = pytest.mark.skipif(not _have_clang(), reason="the listing is clang 14's: needs Debian's clang on PATH")
needs_zig = pytest.mark.skipif(disc._zig_executable() is None, reason="the ziglang package is not installed")

PROGRAMS = {"hello", "hello-func", "xdp_proto_count", "tc_port_filter", "exec_events", "xdp_tail_call", "core_task"}
PARSING_USERS = {"xdp_proto_count", "tc_port_filter", "xdp_tail_call"}


def objects(project):
    return {p.name[: -len(".bpf.o")]: p.read_bytes() for p in sorted((project.root / "build").glob("*.bpf.o"))}


def test_first_build_compiles_everything_and_second_runs_nothing(project):
    first = project.doit()
    assert set(project.compiled(first)) == PROGRAMS
    assert set(project.compiled(first).values()) == {"no object yet"}
    assert set(objects(project)) == PROGRAMS
    second = project.doit()
    assert project.compiled(second) == {}
    # every task reported up to date ("--" is doit's mark for a task it skipped)
    assert sorted(line.split(":")[1] for line in second.stdout.splitlines() if line.startswith("-- build:")) \
        == sorted(PROGRAMS)


def test_touch_rebuilds_nothing_but_an_edit_rebuilds_one(project):
    project.doit()
    src = project.root / "programs" / "hello.bpf.c"
    src.touch()
    assert project.compiled(project.doit()) == {}
    src.write_text(src.read_text() + "\n/* edited */\n")
    assert project.compiled(project.doit()) == {"hello": "changed: programs/hello.bpf.c"}


def test_editing_the_shared_header_rebuilds_exactly_its_users(project):
    project.doit()
    header = project.root / "programs" / "parsing.h"
    header.write_text(header.read_text() + "\n/* tweak */\n")
    rebuilt = project.compiled(project.doit())
    assert set(rebuilt) == PARSING_USERS
    assert all(reason == "changed: programs/parsing.h" for reason in rebuilt.values())
    assert project.compiled(project.doit()) == {}


def test_a_new_include_is_tracked_and_a_removed_one_forgotten(project):
    project.doit()
    extra = project.root / "programs" / "extra.h"
    extra.write_text("#define EXTRA 1\n")
    src = project.root / "programs" / "hello.bpf.c"
    original = src.read_text()
    src.write_text('#include "extra.h"\n' + original)
    assert set(project.compiled(project.doit())) == {"hello"}
    extra.write_text("#define EXTRA 2\n")
    assert project.compiled(project.doit()) == {"hello": "changed: programs/extra.h"}
    # drop the include and the file: one rebuild (the source changed), then quiet
    src.write_text(original)
    extra.unlink()
    assert set(project.compiled(project.doit())) == {"hello"}
    assert project.compiled(project.doit()) == {}


def test_changing_flags_rebuilds_everything(project):
    project.doit()
    (project.root / "pyproject.toml").write_text('[tool.bpfbuild]\ncflags = ["-Wall"]\n')
    rebuilt = project.compiled(project.doit())
    assert set(rebuilt) == PROGRAMS and set(rebuilt.values()) == {"flags changed"}
    assert project.compiled(project.doit()) == {}


def test_per_program_override_rebuilds_only_that_program(project):
    project.doit()
    (project.root / "pyproject.toml").write_text('[tool.bpfbuild.programs.hello]\ndefines = { GREETING = "1" }\n')
    assert project.compiled(project.doit()) == {"hello": "flags changed"}


@needs_zig
def test_changing_the_compiler_rebuilds_everything(project, bpf_cc, tmp_path):
    project.doit()
    if bpf_cc.kind == "zig":   # no clang: the other compiler is zig's clang behind a clang-like script
        other = tmp_path / "other-clang"
        other.write_text("#!/bin/sh\n" + bpf_cc.clang_script() + "\n")
        other.chmod(0o755)
        env = {"BPF_CLANG": str(other)}
    else:
        env = {"BPF_CLANG": "zig"}
    rebuilt = project.compiled(project.doit(env=env))
    assert set(rebuilt) == PROGRAMS
    assert all(r.startswith("compiler changed:") for r in rebuilt.values())


def test_parallel_build_is_byte_identical_to_serial(project):
    project.doit()
    serial = objects(project)
    shutil.rmtree(project.root / "build")   # same directory: DWARF records the compile dir
    res = project.doit("-n", "2")
    assert set(project.compiled(res)) == PROGRAMS
    assert objects(project) == serial


def test_compile_error_passes_diagnostics_and_leaves_no_stale_object(project):
    project.doit()
    src = project.root / "programs" / "hello.bpf.c"
    good = src.read_text()
    src.write_text(good.replace("counter++;", "counter++\n\tundefined_thing;"))
    res = project.doit(check=False)
    assert res.returncode != 0
    assert "programs/hello.bpf.c:11:" in res.stderr and ": error: " in res.stderr
    assert not (project.root / "build" / "hello.bpf.o").exists()
    # still failing, never "up to date"
    again = project.doit(check=False)
    assert again.returncode != 0 and "hello.bpf.c" in again.stderr
    src.write_text(good)
    assert project.compiled(project.doit()) == {"hello": "no object yet"}


def test_continue_reports_every_failing_program(project):
    for name in ("hello", "exec_events"):
        src = project.root / "programs" / f"{name}.bpf.c"
        src.write_text(src.read_text() + "\nint broken = ;\n")
    res = project.doit("--continue", check=False)
    assert res.returncode != 0
    assert "programs/hello.bpf.c:" in res.stderr and "programs/exec_events.bpf.c:" in res.stderr
    assert {"xdp_proto_count", "tc_port_filter"} <= set(project.compiled(res))


def test_clean_removes_what_the_tasks_made(project):
    project.doit()
    project.doit("clean")
    assert objects(project) == {}
    assert not list((project.root / "build").glob("*.d"))


def test_list_documents_every_task(project):
    out = project.doit("list", "--all").stdout
    for name in PROGRAMS:
        assert f"build:{name}" in out
    assert "Compile programs/*.bpf.c" in out


def test_dependency_db_is_sqlite_in_the_build_dir(project):
    """doit's sqlite3 backend: each save is a transaction (a full disk never leaves it empty)."""
    import sqlite3

    project.doit()
    db = project.root / "build" / ".doit.sqlite3"
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("select task_id, task_data from doit"))
    assert "build:hello" in rows
    json.loads(rows["build:hello"])


@needs_zig
@pytest.mark.parametrize("headers", ["system", "bundled"])
def test_zig_builds_every_program(tmp_path, make_project, headers):
    """The pip-only path: zig's clang, and (bundled) our own header set and zig's kernel headers."""
    env = {"BPF_CLANG": "zig"}
    if headers == "bundled":
        env["BPFBUILD_HEADERS"] = "bundled"
    proj = make_project(tmp_path, env)
    res = proj.doit()
    assert set(proj.compiled(res)) == PROGRAMS
    assert proj.compiled(proj.doit()) == {}
    if headers == "bundled":
        assert (proj.root / "build" / "include" / "bpf" / "bpf_helper_defs.h").exists()
        record = json.loads((proj.root / "build" / ".hello.bpf.o.cmd").read_text())
        assert not any(p.startswith("/usr/include/bpf/") for p in record["deps"])


@needs_clang
def test_hello_is_the_users_twelve_instruction_slots(project):
    """clang 14 compiles the user's hello.bpf.c to exactly the listing in their notes."""
    version = subprocess.run(["clang", "--version"], capture_output=True, text=True).stdout
    if "version 14." not in version:
        pytest.skip(f"needs clang 14 for the exact listing, have: {version.splitlines()[0]}")
    if shutil.which("llvm-objdump") is None:
        pytest.skip("llvm-objdump not installed")
    project.doit()
    out = subprocess.run(["llvm-objdump", "-d", str(project.root / "build" / "hello.bpf.o")],
                         capture_output=True, text=True, check=True).stdout
    rows = [m.groups() for m in re.finditer(r"^\s*(\d+):\t[0-9a-f ]+\t(.*)$", out, re.MULTILINE)]
    insns = [text.strip() for _, text in rows]
    assert insns == ["r6 = 0 ll", "r3 = *(u32 *)(r6 + 0)", "r1 = 0 ll", "r2 = 15", "call 6",
                     "r1 = *(u32 *)(r6 + 0)", "r1 += 1", "*(u32 *)(r6 + 0) = r1", "r0 = 2", "exit"]
    slots = [int(pc) for pc, _ in rows]
    assert slots[-1] == 11   # 12 slots: two ld_imm64 take two each


def _can_load() -> str | None:
    if shutil.which("bpftool") is None:
        return "bpftool not installed"
    if os.geteuid() != 0:
        return "loading BPF programs needs root"
    if not os.path.ismount("/sys/fs/bpf"):
        return "bpffs is not mounted at /sys/fs/bpf"
    return None


@pytest.mark.kernel
@pytest.mark.parametrize("toolchain", ["system", "zig-bundled"])
def test_every_program_loads_in_the_kernel(tmp_path, make_project, toolchain):
    """What `doit` builds is accepted by the real verifier (bpftool prog loadall), both toolchains."""
    reason = _can_load()
    if reason:
        pytest.skip(reason)
    if toolchain == "zig-bundled":
        if disc._zig_executable() is None:
            pytest.skip("the ziglang package is not installed")
        env = {"BPF_CLANG": "zig", "BPFBUILD_HEADERS": "bundled"}
    else:
        if not _have_clang():
            pytest.skip("no clang with the bpf target on PATH")
        env = {}
    proj = make_project(tmp_path, env)
    proj.doit()
    pin_root = f"/sys/fs/bpf/bpfbuild-test-{os.getpid()}-{toolchain}"
    os.makedirs(pin_root)
    try:
        for name in sorted(PROGRAMS):
            pin = f"{pin_root}/{name}"
            res = subprocess.run(["bpftool", "prog", "loadall", str(proj.root / "build" / f"{name}.bpf.o"), pin],
                                 capture_output=True, text=True)
            assert res.returncode == 0, f"{name} rejected by the kernel:\n{res.stderr[-3000:]}"
    finally:
        shutil.rmtree(pin_root, ignore_errors=True)
