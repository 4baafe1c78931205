"""A project shaped like the ones people write (tests/realworld/project), through plain `doit`.

Tracing programs on vmlinux.h (BPF_KSYSCALL, BPF_KPROBE, BPF_PROG, USDT), __kconfig externs of
every kind, typed and untyped __ksym, CO-RE reads (a pointer chain, a bitfield, a ___flavour
type with bpf_core_field_exists), two tutorial lessons with the same file name (one in a section
libbpf cannot type, given `type = "xdp"`), and a C loader per program built on its skeleton.
Nothing in pyproject.toml mentions vmlinux.h, __TARGET_ARCH or the build dir.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bpfbuild.toolchain import discover as disc

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PROGRAMS = {"execsnoop", "unlinksnoop", "usdtprobe", "runqueue", "lesson1-xdp_kern", "lesson2-xdp_kern"}
LOADERS = {"execsnoop", "unlinksnoop", "usdtprobe", "runqueue", "lesson1-xdp_user", "lesson2-xdp_user"}
#: the loader of each program (the one that includes its skeleton)
LOADER_OF = {"execsnoop": "execsnoop", "unlinksnoop": "unlinksnoop", "usdtprobe": "usdtprobe",
             "runqueue": "runqueue", "lesson1-xdp_kern": "lesson1-xdp_user", "lesson2-xdp_kern": "lesson2-xdp_user"}

needs_btf = pytest.mark.skipif(not os.path.exists("/sys/kernel/btf/vmlinux"),
                               reason="no kernel BTF (/sys/kernel/btf/vmlinux) to generate vmlinux.h from")


def _have_libbpf_dev() -> bool:
    return os.path.exists("/usr/include/bpf/libbpf.h") and shutil.which("cc") is not None


def _doit(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    return subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=1800)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "realworld"
    shutil.copytree(HERE / "project", root)
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    return root


def _toolchain_env(toolchain: str) -> dict[str, str]:
    if toolchain == "zig":
        if disc._zig_executable() is None:
            pytest.skip("the ziglang package is not installed")
        return {"BPF_CLANG": "zig"}
    try:
        if disc.discover().kind is not disc.CompilerKind.CLANG:
            pytest.skip("no clang with the bpf target on PATH")
    except Exception as exc:   # noqa: BLE001 - skip with discovery's reason
        pytest.skip(str(exc))
    return {}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built once with the default toolchain (clang, else zig's: shared by the tests
    that only read it)."""
    try:
        disc.discover()
    except Exception as exc:   # noqa: BLE001 - skip with discovery's reason
        pytest.skip(str(exc))
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        pytest.skip("no kernel BTF (/sys/kernel/btf/vmlinux) to generate vmlinux.h from")
    root = _copy(tmp_path_factory.mktemp("rw"))
    res = _doit(root)
    assert res.returncode == 0, f"doit failed:\n{res.stdout[-6000:]}\n{res.stderr[-6000:]}"
    return root


@needs_btf
def test_doit_passes_and_the_summary_lists_every_program(built):
    report = json.loads((built / "build" / "report.json").read_text())
    rows = {r["program"]: r for r in report["programs"]}
    assert set(rows) == PROGRAMS
    for name, row in rows.items():
        assert row["object"], name
        assert row["skeleton"], name
        # accepted, or "unknown" where the verifier says what it does not model or that this kernel
        # cannot load it (a typed __ksym where kallsyms lists no data symbols)
        assert all(p["verdict"] == "accepted" or (p["verdict"] == "unknown" and (p.get("not_modelled")
                                                                               or p.get("target")))
                   for p in row["programs"]), (name, row["programs"])
    # the untyped legacy section got its type from pyproject.toml, and its spec (beside the source,
    # named after the file) ran against it
    assert [p["type"] for p in rows["lesson2-xdp_kern"]["programs"]] == ["xdp"]
    assert rows["lesson2-xdp_kern"]["tests"]["passed"] == 2
    assert rows["lesson2-xdp_kern"]["tests"]["spec"] == "lessons/lesson2/xdp_kern.test.toml"
    # the vmlinux.h users got build/vmlinux.h with no configuration
    assert (built / "build" / "vmlinux.h").exists()


@needs_btf
def test_name_clash_gives_path_derived_names_in_doit_list(built):
    out = _doit(built, "list", "--all").stdout
    for name in ("build:lesson1-xdp_kern", "build:lesson2-xdp_kern", "loader:lesson1-xdp_user",
                 "loader:lesson2-xdp_user", "skel:lesson1-xdp_kern"):
        assert name in out
    assert (built / "build" / "lesson1-xdp_kern.skel.h").exists()
    assert (built / "build" / "lesson2-xdp_kern.skel.h").exists()


@needs_btf
@pytest.mark.skipif(not _have_libbpf_dev(), reason="libbpf-dev (bpf/libbpf.h) or cc not installed")
def test_every_loader_is_built_against_its_skeleton(built):
    for name in LOADERS:
        exe = built / "build" / name
        assert exe.exists() and os.access(exe, os.X_OK), name
    record = json.loads((built / "build" / ".execsnoop.loader.cmd").read_text())
    assert any(p.endswith("build/execsnoop.skel.h") for p in record["deps"])


@needs_btf
def test_second_doit_compiles_nothing_and_a_header_edit_rebuilds_its_users(built):
    res = _doit(built)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "compiling" not in res.stdout
    header = built / "tracing" / "unlinksnoop.h"
    header.write_text(header.read_text() + "\n/* edited */\n")
    res = _doit(built)
    assert res.returncode == 0, res.stderr[-3000:]
    compiled = set(re.findall(r"^(\S+): compiling", res.stdout, re.MULTILINE))
    expected = {"tracing/unlinksnoop.bpf.c"}
    if _have_libbpf_dev():
        expected.add("loaders/unlinksnoop.c")
    assert compiled == expected


@needs_btf
@pytest.mark.parametrize("toolchain", ["zig"])
def test_doit_passes_with_the_other_toolchain(tmp_path, toolchain):
    env = _toolchain_env(toolchain)
    root = _copy(tmp_path)
    res = _doit(root, env=env)
    assert res.returncode == 0, f"doit failed:\n{res.stdout[-6000:]}\n{res.stderr[-6000:]}"
    report = json.loads((root / "build" / "report.json").read_text())
    assert {r["program"] for r in report["programs"] if r["object"] and r["skeleton"]} == PROGRAMS


# --- the kernel: libbpf (through each program's own loader) against bpfbuild's reading ------------

_PROG_LINE = re.compile(r"^prog (\S+) tag ([0-9a-f]{16}) xlated (\d+)$", re.MULTILINE)
_MAP_LINE = re.compile(r"^map (\S+) type (\d+) key (\d+) value (\d+) max_entries (\d+) flags (\d+)$", re.MULTILINE)


@pytest.mark.kernel
@needs_btf
@pytest.mark.skipif(not _have_libbpf_dev(), reason="libbpf-dev (bpf/libbpf.h) or cc not installed")
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_libbpf_loads_what_bpfbuild_predicts(built, program):
    """Each loader loads its skeleton's object with libbpf and prints the kernel's view: tags and
    map list equal bpfbuild's (externs and CO-RE resolved against the running kernel)."""
    from bpfbuild.config import load_config
    from bpfbuild.obj.tag import kernel_tag_hash, program_tag
    from bpfbuild.tasks.build import load_program_object
    from bpfbuild.verifier.fixups import xlated

    res = subprocess.run([str(built / "build" / LOADER_OF[program]), "--report"], capture_output=True,
                         text=True, timeout=120)
    if res.returncode != 0:
        missing = re.search(r"failed to find the address for kernel symbol '(\w+)'", res.stderr)
        if missing:
            pytest.skip(f"this kernel cannot give the address of {missing.group(1)} (a typed __ksym; "
                        "built without CONFIG_KALLSYMS_ALL)")
        pytest.fail(f"{program}: libbpf could not load it:\n{res.stderr[-3000:]}")
    config = load_config(built)
    prog_src = next(p for p in config.programs() if p.name == program)
    spec = load_program_object(prog_src)
    kernel_progs = {m.group(1): (m.group(2), int(m.group(3))) for m in _PROG_LINE.finditer(res.stdout)}
    # bytes_xlated after the kernel verifier's rewrites (dead code removed, lookups inlined...)
    ours = {p.name: (program_tag(p.insns, kernel_tag_hash()), xlated(spec, p).bytes_xlated) for p in spec.programs}
    assert kernel_progs == ours
    kernel_maps = sorted(tuple(int(v) if i else v for i, v in enumerate(m.groups()))
                         for m in _MAP_LINE.finditer(res.stdout))
    our_maps = sorted((m.name[:15], int(m.type), m.key_size, m.value_size, m.max_entries, m.flags)
                      for m in spec.maps)
    assert our_maps == kernel_maps


@needs_btf
def test_bundled_headers_build_everything(tmp_path):
    """Without libbpf's headers (zig's clang and bpfbuild's own set) the tracing macros still work
    (BPF_KSYSCALL, BPF_KPROBE, BPF_PROG, bitfield reads, tristate kconfig), and so does the USDT
    program (bpfbuild's own usdt.bpf.h, laid out as libbpf's user space fills its maps)."""
    if disc._zig_executable() is None:
        pytest.skip("the ziglang package is not installed")
    root = _copy(tmp_path)
    res = _doit(root, "--continue", env={"BPF_CLANG": "zig", "BPFBUILD_HEADERS": "bundled"})
    assert res.returncode == 0, res.stdout + res.stderr
    built = {p.name[: -len(".bpf.o")] for p in (root / "build").glob("*.bpf.o")}
    assert built == PROGRAMS
    for name in PROGRAMS:
        verdict = json.loads((root / "build" / ".results" / f"{name}.verify.json").read_text())["verdict"]
        assert verdict in ("accepted", "unknown"), name


@pytest.mark.kernel
@needs_btf
def test_load_applies_the_type_override_of_an_untyped_section(built, tmp_path):
    """SEC("xdp_icmp_echo") is untyped for libbpf: `doit load` gives it the project's `type = "xdp"`
    (bpf_program__set_type) and `bpfbuild load --type xdp` does the same for a bare object;
    without the type the load fails in one line."""
    if os.geteuid() != 0:
        pytest.skip("loading programs needs root (CAP_BPF)")
    from bpfbuild.kernel.info import open_pinned, prog_info
    from bpfbuild.tasks.kernel import load_program, unload_program

    obj = built / "build" / "lesson2-xdp_kern.bpf.o"
    pins = f"/sys/fs/bpf/bpfbuild-typetest-{os.getpid()}"
    root = tmp_path / "p"
    shutil.copytree(built, root, ignore=shutil.ignore_patterns("*.o", "*.skel.h", ".doit*"))
    shutil.copy(obj, root / "build" / obj.name)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[tool.bpfbuild]\n", f'[tool.bpfbuild]\npin_dir = "{pins}"\n', 1))

    def pinned_type(path: str) -> str:
        with open_pinned(path) as fd:
            return prog_info(fd).type_name

    try:
        assert load_program(str(root), "lesson2-xdp_kern") is None
        assert pinned_type(f"{pins}/lesson2-xdp_kern/xdp_icmp_echo_prog") == "xdp"
        assert unload_program(str(root), "lesson2-xdp_kern") is None
        assert not os.path.exists(f"{pins}/lesson2-xdp_kern")

        cli = [sys.executable, "-m", "bpfbuild", "load", str(obj), f"{pins}-cli"]
        res = subprocess.run(cli, capture_output=True, text=True, cwd=REPO)
        assert res.returncode != 0 and "Traceback" not in res.stderr
        res = subprocess.run([*cli, "--type", "xdp"], capture_output=True, text=True, cwd=REPO)
        assert res.returncode == 0, res.stderr
        assert pinned_type(f"{pins}-cli") == "xdp"
    finally:
        for leftover in (f"{pins}-cli", f"{pins}/lesson2-xdp_kern/xdp_icmp_echo_prog"):
            if os.path.exists(leftover):
                os.unlink(leftover)
        shutil.rmtree(pins, ignore_errors=True)
