"""The compile command of one program (pure: paths and settings in, argv out)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bpfbuild.toolchain.discover import Compiler

__all__ = ["BASE_FLAGS", "compile_argv"]

# What `clang -target bpf -g -O2` means in every tutorial's Makefile.
BASE_FLAGS = ("-g", "-O2")


def compile_argv(
    compiler: Compiler,
    source: Path | str,
    output: Path | str,
    *,
    include_flags: Sequence[str] = (),
    cflags: Sequence[str] = (),
    defines: Sequence[tuple[str, str]] = (),
    include_dirs: Sequence[str] = (),
    mcpu: str | None = None,
    depfile: Path | str | None = None,
) -> list[str]:
    """``clang -target bpf -g -O2 [-mcpu] [-D..] [-I..] <includes> <cflags> [-MD -MF d] -c src -o out``."""
    argv = [*compiler.command, "-target", compiler.target, *BASE_FLAGS]
    cpu = mcpu or compiler.default_mcpu
    if cpu:
        argv.append(f"-mcpu={cpu}")
    argv += [f"-D{name}={value}" for name, value in defines]
    argv += [f"-I{d}" for d in include_dirs]
    argv += list(include_flags)
    argv += list(cflags)
    if depfile is not None:
        argv += ["-MD", "-MF", str(depfile)]
    argv += ["-c", str(source), "-o", str(output)]
    return argv
