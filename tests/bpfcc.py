"""The BPF C compiler of the tests: the one ``doit`` would use, found by bpfbuild's own discovery.

That is ``$BPF_CLANG``, else a ``clang`` on PATH with the bpf target, else the ``ziglang``
package's clang: a machine with only Python (no clang, no libbpf-dev) builds every test
program too.  Include flags are bpfbuild's :func:`~bpfbuild.toolchain.discover.include_set`:
the system's libbpf headers where installed, else bpfbuild's bundled set (with
``bpf/bpf_helper_defs.h`` generated from the ``linux/bpf.h`` the compiler sees), and the
``/usr/include/<arch>-linux-gnu`` directory only where it exists.  ``BPFBUILD_HEADERS=bundled``
forces the bundled set.

``find()`` / ``find(min_major=18)`` (a compiler that knows ``-mcpu=v4``: a ``clang-NN`` on PATH,
else zig's) are cached per process; ``unavailable()`` is the skip reason (None: usable).  The
root conftest wraps them as the ``bpf_cc`` and ``bpf_cc_v4`` fixtures.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BpfCC", "CompileFailed", "Unavailable", "compiler_of_kind", "find", "unavailable"]


class Unavailable(Exception):
    """No compiler (or no header set) to build BPF C here; the message is the skip reason."""


class CompileFailed(AssertionError):
    """The compiler refused a test program (its stderr is the message)."""


@dataclass(frozen=True)
class BpfCC:
    compiler: object            # bpfbuild.toolchain.discover.Compiler
    include_flags: tuple[str, ...]
    libbpf: str                 # "system" or "bpfbuild"
    major: int                  # clang major version (zig's clang included)

    @property
    def path(self) -> str:
        return self.compiler.path  # type: ignore[attr-defined]

    @property
    def kind(self) -> str:
        return self.compiler.kind.value  # type: ignore[attr-defined]

    @property
    def command(self) -> tuple[str, ...]:
        """The argv prefix (``clang`` or ``zig cc``)."""
        return tuple(self.compiler.command)  # type: ignore[attr-defined]

    @property
    def target_flags(self) -> tuple[str, ...]:
        """``-target bpf`` (zig: ``bpfel-freestanding``), plus zig's default cpu."""
        flags = ["-target", self.compiler.target]  # type: ignore[attr-defined]
        if self.compiler.default_mcpu:  # type: ignore[attr-defined]
            flags.append(f"-mcpu={self.compiler.default_mcpu}")  # type: ignore[attr-defined]
        return tuple(flags)

    def argv(self, source: Path | str, output: Path | str, *, cflags: Sequence[str] = (),
             mcpu: str | None = None, include_dirs: Sequence[str | Path] = (),
             target_arch: str | None = None) -> list[str]:
        """``clang -target bpf -g -O2 [-mcpu] <includes> <cflags> -c source -o output``."""
        from bpfbuild.toolchain.flags import compile_argv

        return compile_argv(self.compiler, source, output, include_flags=self.include_flags,  # type: ignore[arg-type]
                            cflags=list(cflags), mcpu=mcpu, include_dirs=[str(d) for d in include_dirs],
                            target_arch=target_arch)

    def run(self, source: Path | str, output: Path | str, **kw: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(source, output, **kw), capture_output=True, text=True,  # type: ignore[arg-type]
                              check=False, timeout=600)

    def clang_script(self) -> str:
        """Shell lines that run this compiler as ``clang "$@"`` would (for ``BPF_CLANG`` wrapper
        scripts in tests): clang itself, or zig's clang answering ``--version`` and
        ``-print-targets`` as clang does, with ``-target bpf`` made zig's ``bpfel-freestanding``
        and the kernel headers zig does not search by itself added."""
        if self.kind == "clang":
            return f'"{self.path}" "$@"'
        from bpfbuild.toolchain.discover import include_set

        zig_dirs = [f for f in include_set(self.compiler, Path("/nonexistent")).flags  # type: ignore[arg-type]
                    if not f.startswith("-I")]
        extra = " ".join(f'"{f}"' for f in zig_dirs)
        return (
            'case "$1" in\n'
            f'  --version) "{self.path}" cc --version; exit $?;;\n'
            '  -print-targets) echo "    bpf        - BPF (host endian)"; exit 0;;\n'
            'esac\n'
            'n=$#; prev=""\n'
            'for a in "$@"; do\n'
            '  [ "$prev" = "-target" ] && [ "$a" = bpf ] && a=bpfel-freestanding\n'
            '  prev=$a; set -- "$@" "$a"\n'
            'done\n'
            'shift $n\n'
            f'"{self.path}" cc -mcpu={self.compiler.default_mcpu or "v1"} {extra} "$@"'  # type: ignore[attr-defined]
        )

    def compile(self, source: Path | str, output: Path | str, **kw: object) -> Path:
        """Compile or raise :class:`CompileFailed` with the compiler's message."""
        res = self.run(source, output, **kw)
        if res.returncode != 0:
            raise CompileFailed(f"cannot compile {source} ({self.compiler.identity}):\n{res.stderr}")  # type: ignore[attr-defined]
        return Path(output)


_FOUND: dict[int, BpfCC | str] = {}
_WORKDIR: list[tempfile.TemporaryDirectory[str]] = []


def _workdir() -> Path:
    if not _WORKDIR:
        _WORKDIR.append(tempfile.TemporaryDirectory(prefix="bpfbuild-tests-cc-"))
    return Path(_WORKDIR[0].name)


def _major(compiler: object) -> int:
    m = re.search(r"clang version (\d+)", compiler.version)  # type: ignore[attr-defined]
    return int(m.group(1)) if m else 0


def _discover(min_major: int) -> object:
    from bpfbuild.toolchain.discover import _versioned_clangs, discover

    cache = _workdir() / "toolchain.json"
    first = discover(cache_file=cache)
    if _major(first) >= min_major:
        return first
    # as a user would: BPF_CLANG=clang-NN (newest on PATH), else the ziglang package
    env = dict(os.environ)
    for exe in _versioned_clangs(env.get("PATH")):
        m = re.search(r"clang-(\d+)$", exe)
        if m and int(m.group(1)) >= min_major:
            try:
                found = discover({**env, "BPF_CLANG": exe}, cache_file=cache)
            except Exception:  # noqa: BLE001 (a broken clang-NN: try the next)
                continue
            if _major(found) >= min_major:
                return found
    found = discover({**env, "BPF_CLANG": "zig"}, cache_file=cache)
    if _major(found) < min_major:
        raise Unavailable(f"no clang >= {min_major} (neither clang-NN on PATH nor the ziglang package's)")
    return found


def _make(min_major: int) -> BpfCC:
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.toolchain.discover import include_set

    try:
        compiler = _discover(min_major)
    except BpfBuildError as exc:
        raise Unavailable(f"no BPF compiler: {exc}") from None
    gen = _workdir() / f"include-{compiler.kind.value}-{_major(compiler)}"  # type: ignore[attr-defined]
    bundled = os.environ.get("BPFBUILD_HEADERS", "auto") == "bundled"
    includes = include_set(compiler, gen, bundled=bundled)  # type: ignore[arg-type]
    if includes.libbpf != "system":
        from bpfbuild.tasks.headers import write_helper_defs

        if includes.uapi_header is None or not os.path.exists(includes.uapi_header):
            raise Unavailable("no linux/bpf.h for the compiler (neither the system's nor ziglang's)")
        failed = write_helper_defs(includes.uapi_header, gen / "bpf" / "bpf_helper_defs.h")
        if failed is not None:
            raise Unavailable(f"cannot generate bpf_helper_defs.h: {failed}")
    return BpfCC(compiler, includes.flags, includes.libbpf, _major(compiler))


def find(min_major: int = 0) -> BpfCC:
    """The compiler (cached per process); :class:`Unavailable` with the reason if none."""
    if min_major not in _FOUND:
        try:
            _FOUND[min_major] = _make(min_major)
        except Unavailable as exc:
            _FOUND[min_major] = str(exc)
    found = _FOUND[min_major]
    if isinstance(found, str):
        raise Unavailable(found)
    return found


def unavailable(min_major: int = 0) -> str | None:
    """Why no test program can be compiled here (None: :func:`find` works)."""
    try:
        find(min_major)
    except Unavailable as exc:
        return str(exc)
    return None


def compiler_of_kind(kind: str, cache_dir: Path) -> object:
    """bpfbuild's discovery of a compiler of one kind ("clang", or "zig" for the ziglang package's
    clang); :class:`Unavailable` with the reason where this machine has none of that kind."""
    from bpfbuild.errors import ToolchainError
    from bpfbuild.toolchain.discover import discover

    env = dict(os.environ)
    if kind == "zig":
        env["BPF_CLANG"] = "zig"
    try:
        compiler = discover(env, cache_file=cache_dir / "toolchain.json")
    except ToolchainError as exc:
        raise Unavailable(f"no {kind} compiler: {exc}") from None
    if compiler.kind.value != kind:
        raise Unavailable(f"no {kind} compiler here (discovery found {compiler.kind.value})")
    return compiler
