"""Compiler discovery order, the install hint, include sets and the compile command."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bpfbuild.errors import ToolchainError
from bpfbuild.toolchain import discover as disc
from bpfbuild.toolchain.discover import CompilerKind, discover, include_set
from bpfbuild.toolchain.flags import compile_argv

HAVE_CLANG = any(disc._run(["sh", "-c", "command -v clang"]).stdout for _ in [0])
HAVE_ZIG = disc._zig_executable() is not None


def _fake_clang(path: Path, *, bpf: bool) -> Path:
    """A shell script that answers --version and -print-targets like clang."""
    targets = "    bpf        - BPF (host endian)\\n" if bpf else "    x86-64     - 64-bit X86\\n"
    path.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        '  --version) echo "fake clang version 99.0.0";;\n'
        f'  -print-targets) printf "  Registered Targets:\\n{targets}";;\n'
        "esac\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_bpf_clang_wins_over_path(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _fake_clang(bindir / "clang", bpf=True)
    mine = _fake_clang(tmp_path / "my-clang", bpf=True)
    c = discover({"PATH": str(bindir), "BPF_CLANG": str(mine)})
    assert c.path == str(mine)
    assert c.reason.startswith("$BPF_CLANG")
    assert c.version == "fake clang version 99.0.0"


def test_clang_on_path_needs_the_bpf_target(tmp_path, monkeypatch):
    monkeypatch.setattr(disc, "_zig_executable", lambda: None)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _fake_clang(bindir / "clang", bpf=False)
    with pytest.raises(ToolchainError) as err:
        discover({"PATH": str(bindir)})
    assert "install clang" in str(err.value) and "ziglang" in str(err.value)


def test_versioned_clang_is_found_after_plain_clang(tmp_path, monkeypatch):
    monkeypatch.setattr(disc, "_zig_executable", lambda: None)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _fake_clang(bindir / "clang-14", bpf=True)
    _fake_clang(bindir / "clang-19", bpf=True)
    c = discover({"PATH": str(bindir)})
    assert c.path.endswith("clang-19")


def test_bpf_clang_that_does_not_exist(tmp_path):
    with pytest.raises(ToolchainError, match="BPF_CLANG=/nope"):
        discover({"PATH": str(tmp_path), "BPF_CLANG": "/nope"})


def test_probe_results_are_cached(tmp_path):
    exe = _fake_clang(tmp_path / "clang", bpf=True)
    cache = tmp_path / "cache.json"
    discover({"PATH": str(tmp_path)}, cache_file=cache)
    assert cache.exists()
    # Break the script: a cache hit must not run it again ...
    content = exe.read_text()
    exe.write_text(content.replace("99.0.0", "99.0.0"))   # same size, new mtime -> probe again
    os.utime(exe, ns=(1, 1))
    c = discover({"PATH": str(tmp_path)}, cache_file=cache)
    assert c.version == "fake clang version 99.0.0"


@pytest.mark.skipif(not HAVE_ZIG, reason="the ziglang package is not installed")
def test_zig_is_the_fallback(tmp_path):
    c = discover({"PATH": str(tmp_path)})
    assert c.kind is CompilerKind.ZIG
    assert c.command[-1] == "cc" and c.target == "bpfel-freestanding" and c.default_mcpu == "v1"
    argv = compile_argv(c, "a.bpf.c", "a.bpf.o")
    assert "-mcpu=v1" in argv   # zig's default cpu differs from clang's: always explicit


@pytest.mark.skipif(not HAVE_ZIG, reason="the ziglang package is not installed")
def test_pip_only_include_set_uses_our_headers_and_zigs_uapi(tmp_path):
    c = discover({"PATH": str(tmp_path), "BPF_CLANG": "zig"})
    inc = include_set(c, tmp_path / "gen", bundled=True)
    assert inc.libbpf == "bpfbuild"
    assert inc.uapi_header and os.path.exists(inc.uapi_header)
    assert f"-I{tmp_path / 'gen'}" in inc.flags
    assert any(f.endswith("bpfbuild/include") for f in inc.flags)


def test_missing_compiler_cli_is_one_line_exit_2(tmp_path):
    code = ("import sys\nfrom bpfbuild.toolchain import discover as d\n"
            "d._zig_executable = lambda: None\nfrom bpfbuild.cli import main\nsys.exit(main(['toolchain']))\n")
    env = {**os.environ, "PATH": str(tmp_path)}
    env.pop("BPF_CLANG", None)
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "install clang" in res.stderr
    assert "Traceback" not in res.stderr


def test_compile_argv_is_the_makefile_command_plus_settings():
    c = disc.Compiler(CompilerKind.CLANG, ("/usr/bin/clang",), "/usr/bin/clang", "v", "r", "bpf", None)
    argv = compile_argv(c, "programs/a.bpf.c", "build/a.bpf.o", include_flags=["-I/usr/include/x86_64-linux-gnu"],
                        cflags=["-Wall"], defines=[("N", "3")], include_dirs=["inc"], mcpu="v3",
                        depfile="build/a.d")
    assert argv == ["/usr/bin/clang", "-target", "bpf", "-g", "-O2", "-mcpu=v3", "-DN=3", "-Iinc",
                    "-I/usr/include/x86_64-linux-gnu", "-Wall", "-MD", "-MF", "build/a.d",
                    "-c", "programs/a.bpf.c", "-o", "build/a.bpf.o"]


@pytest.mark.skipif(not HAVE_ZIG, reason="the ziglang package is not installed")
@pytest.mark.parametrize("release, chosen", [((1, 1), "bpfbuild"), ((1, 5), "system"), ((1, 6), "system"),
                                             (None, "bpfbuild")])
def test_the_systems_libbpf_headers_only_when_as_new_as_ours(tmp_path, release, chosen):
    """An older libbpf-dev (Debian 12 has 1.1) lacks macros that real programs use and bpfbuild's own
    set has (BPF_UPROBE, bpf_ksym_exists...): its headers are used only from the bundled API's release."""
    root = tmp_path / "usr-include"
    (root / "bpf").mkdir(parents=True)
    (root / "linux").mkdir()
    (root / "linux" / "bpf.h").write_text("/* uapi */\n")
    (root / "bpf" / "bpf_helpers.h").write_text("/* libbpf */\n")
    if release is not None:
        (root / "bpf" / "libbpf_version.h").write_text(
            f"#define LIBBPF_MAJOR_VERSION {release[0]}\n#define LIBBPF_MINOR_VERSION {release[1]}\n")
    c = discover({"PATH": str(tmp_path), "BPF_CLANG": "zig"})
    inc = include_set(c, tmp_path / "gen", system_root=str(root))
    assert inc.libbpf == chosen
    assert include_set(c, tmp_path / "gen", system_root=str(root), min_libbpf=(0, 0)).libbpf == "system"
