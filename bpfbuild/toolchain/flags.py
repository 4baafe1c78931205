"""The compile command of one program (pure: paths and settings in, argv out)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bpfbuild.toolchain.discover import Compiler

__all__ = ["BASE_FLAGS", "compile_argv", "target_arch_define"]

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
    target_arch: str | None = None,
    launcher: Sequence[str] = (),
) -> list[str]:
    """``[launcher] clang -target bpf -g -O2 [-mcpu] [-D__TARGET_ARCH_<arch>] [-D..] [-I..] <includes> <cflags>
    [-MD -MF d] -c src -o out``.

    ``target_arch`` is the arch bpf_tracing.h reads pt_regs for (``x86``, ``arm64``, ...); it is
    left out when the defines or cflags already name one.
    """
    argv = [*launcher, *compiler.command, "-target", compiler.target, *BASE_FLAGS]
    cpu = mcpu or compiler.default_mcpu
    if cpu:
        argv.append(f"-mcpu={cpu}")
    define = target_arch_define(target_arch, defines, cflags)
    if define:
        argv.append(define)
    argv += [f"-D{name}={value}" for name, value in defines]
    argv += [f"-I{d}" for d in include_dirs]
    argv += list(include_flags)
    argv += list(cflags)
    if depfile is not None:
        argv += ["-MD", "-MF", str(depfile)]
    argv += ["-c", str(source), "-o", str(output)]
    return argv


def target_arch_define(arch: str | None, defines: Sequence[tuple[str, str]] = (),
                       cflags: Sequence[str] = ()) -> str | None:
    """``-D__TARGET_ARCH_<arch>``, unless the user's own flags already define a target arch."""
    if not arch:
        return None
    if any(name.startswith("__TARGET_ARCH_") for name, _ in defines):
        return None
    if any(flag.startswith(("-D__TARGET_ARCH_", "-D", "__TARGET_ARCH_")) and "__TARGET_ARCH_" in flag
           for flag in cflags):
        return None
    return f"-D__TARGET_ARCH_{arch}"
