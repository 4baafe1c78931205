"""BPF programs that include glibc headers build where only the 64-bit glibc files are installed.

With ``-target bpf`` glibc's <gnu/stubs.h> includes <gnu/stubs-32.h>, which only the 32-bit
development package installs (libc6-dev-i386).  bpfbuild's include set ends with a fallback
directory (``-idirafter``, after every system directory) that holds an empty stub list, so an XDP
tutorial's ``#include <sys/socket.h>`` compiles with clang and the system's glibc headers, and with
the ziglang package's clang and its own glibc headers (a machine with only Python).  Where the
system (or zig's set) has the file, the compile uses that one, never ours.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bpfbuild.toolchain.depfile import parse_depfile
from bpfbuild.toolchain.discover import fallback_include_dir, include_set
from bpfbuild.toolchain.flags import compile_argv
from tests.bpfcc import Unavailable, compiler_of_kind

SOURCE = """\
#include <linux/bpf.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

__attribute__((section("xdp"), used))
int only_ipv4_udp(struct xdp_md *ctx)
{
    return AF_INET == 2 && IPPROTO_UDP == 17 && sizeof(struct sockaddr_in) == 16 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] __attribute__((section("license"), used)) = "GPL";
"""


def _compiler(kind: str, tmp: Path):  # noqa: ANN202 - a Compiler
    try:
        return compiler_of_kind(kind, tmp)
    except Unavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize(("kind", "bundled"), [("clang", False), ("zig", True), ("zig", False)])
def test_fallback_dir_comes_after_every_other_directory(kind: str, bundled: bool, tmp_path: Path) -> None:
    flags = include_set(_compiler(kind, tmp_path), tmp_path / "include", bundled=bundled).flags
    assert flags[-2:] == ("-idirafter", str(fallback_include_dir()))
    assert (fallback_include_dir() / "gnu" / "stubs-32.h").is_file()
    assert not (fallback_include_dir() / "gnu" / "stubs.h").exists()   # only what glibc's 64-bit set lacks


@pytest.mark.parametrize(("kind", "bundled"), [("clang", False), ("zig", True)])
def test_program_including_sys_socket_h_compiles_for_bpf(kind: str, bundled: bool, tmp_path: Path) -> None:
    compiler = _compiler(kind, tmp_path)
    includes = include_set(compiler, tmp_path / "include", bundled=bundled)
    arch_dir = f"/usr/include/{os.uname().machine}-linux-gnu"
    if kind == "clang" and not os.path.exists("/usr/include/sys/socket.h") \
            and not os.path.exists(f"{arch_dir}/sys/socket.h"):
        pytest.skip("glibc's development headers (libc6-dev) are not installed")
    src = tmp_path / "sock.bpf.c"
    src.write_text(SOURCE)
    out, dep = tmp_path / "sock.bpf.o", tmp_path / "sock.d"
    argv = compile_argv(compiler, src, out, include_flags=includes.flags, depfile=dep)
    res = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    assert res.returncode == 0, f"{' '.join(argv)}\n{res.stderr}"
    assert out.stat().st_size > 0
    deps = [os.path.normpath(d) for d in parse_depfile(dep.read_text())]
    stubs = [d for d in deps if d.endswith(os.path.join("gnu", "stubs-32.h"))]
    assert len(stubs) == 1, deps
    ours = os.path.normpath(fallback_include_dir() / "gnu" / "stubs-32.h")
    dirs = [f.removeprefix("-I") for f in includes.flags if f not in ("-idirafter", str(fallback_include_dir()))]
    if kind == "clang":
        dirs.append("/usr/include")
    others = [d for d in dirs if os.path.exists(os.path.join(d, "gnu", "stubs-32.h"))]
    assert (stubs[0] == ours) is not bool(others), (stubs, others)   # another directory's file wins
