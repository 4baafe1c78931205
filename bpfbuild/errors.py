"""One error tree for the whole package, and the one way to print an error.

Every failure a user can cause (bad input, a missing tool, a broken program) is a
``BpfBuildError`` subclass carrying typed fields.  Foreign exceptions are translated where
they enter (``raise ... from exc``).  Verifying is not exceptional: the verifier returns a
report.  The tree::

    BpfBuildError                  exit_status 2 unless said otherwise
    +-- ConfigError                [tool.bpfbuild], a command-line option
    |   +-- SpecError              a test spec or emulator input (location in the spec)
    +-- ToolchainError             no usable compiler
    |   +-- CompileError           the compiler ran and failed (argv, returncode, stderr)
    +-- ObjectError                an object that cannot be read (section, offset)
    |   +-- BTFError               corrupt or unsupported BTF / BTF.ext
    +-- ProgramError               a program, at an instruction (pc) and a source line
    |   +-- DecodeError            bytes that are not an instruction
    |   +-- VMError                a fault while emulating                  exit_status 1
    +-- AsmError                   assembler text (line)
    +-- SkelError                  a skeleton that cannot be generated
    +-- KernelError                the kernel or libbpf refused (errno)
        +-- LoadRejected           the kernel's verifier rejected a program  exit_status 1

Messages are plain: ``str(err)`` is ``[file: ][where: ]message`` (``where`` = the section
and offset, the instruction, the line), never a severity.  :func:`format_error` is the one
place that turns an error into the line a user reads, with the severity where compilers
put it and the file shown relative to the project root; callers decide nothing from the text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import ClassVar

from bpfbuild.location import SourceLocation, shown_path

__all__ = [
    "AsmError",
    "BTFError",
    "BpfBuildError",
    "CompileError",
    "ConfigError",
    "DecodeError",
    "KernelError",
    "LoadRejected",
    "NotEmulated",
    "ObjectError",
    "ProgramError",
    "SkelError",
    "SpecError",
    "TargetMismatch",
    "ToolchainError",
    "VMError",
    "format_error",
    "no_such",
]


class BpfBuildError(Exception):
    """Root of every error bpfbuild raises on purpose.

    ``file`` (optional) is the input the error is about.  ``exit_status`` is what the
    command exits with: 1 when the program is wrong (a rejection, a fault), 2 otherwise.
    """

    exit_status: ClassVar[int] = 2

    def __init__(self, message: str, *, file: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file

    def with_file(self, file: str) -> BpfBuildError:
        """Attach the input's path (used by the path-taking wrappers of pure functions)."""
        if self.file is None:
            self.file = file
        return self

    @property
    def position(self) -> SourceLocation | None:
        """A source position (``file:line[:col]``) when the error is about a line, else None."""
        return None

    @property
    def where(self) -> str | None:
        """What inside ``file`` the error is about ("section .text+0x8", "insn 3"), if anything."""
        return None

    def __str__(self) -> str:
        return _layout(self, self.file)


def _layout(exc: BpfBuildError, file: str | None, severity: str | None = None) -> str:
    """``[file: ][where: ][severity: ]message``, or ``file:line[:col]: [severity: ]message``."""
    head: list[str] = []
    position = exc.position
    if position is not None:
        head.append(str(position if file is None else dataclasses.replace(position, file=file)))
    else:
        if file:
            head.append(file)
        if exc.where:
            head.append(exc.where)
    if severity:
        head.append(severity)
    return ": ".join([*head, exc.message])


def format_error(exc: BpfBuildError, *, severity: str = "error", root: str | None = None) -> str:
    """The line a user reads for ``exc``.

    An error about a line is printed the way compilers print one,
    ``file:line[:col]: error: message``; any other error as ``file: [where: ]message``
    (``severity`` is not repeated: the whole line is the error).  The file is shown relative
    to ``root`` (default: the current directory) when it lies inside it.  An error without
    a file is just its message; the caller adds its own name (``bpfbuild: ...``).
    """
    position = exc.position
    if position is not None:
        return _layout(exc, shown_path(position.file, root), severity)
    return _layout(exc, shown_path(exc.file, root) if exc.file else None)


def no_such(what: str, name: str, choices: Iterable[str]) -> str:
    """``no program 'x' (programs: a, b)``: the message of a lookup that failed, with the choices."""
    names = ", ".join(choices) or "none"
    return f"no {what} {name!r} ({what}s: {names})"


class ConfigError(BpfBuildError):
    """Invalid ``[tool.bpfbuild]`` configuration or command-line option."""


class SpecError(ConfigError):
    """A test spec (``programs/<name>.test.toml``) or emulator input that cannot be used:
    bad TOML, an unknown key, a value of the wrong type.  ``location`` points into the spec."""

    def __init__(self, message: str, *, location: SourceLocation | None = None,
                 file: str | None = None) -> None:
        super().__init__(message, file=file if file is not None else location.file if location else None)
        self.location = location

    @property
    def position(self) -> SourceLocation | None:
        return self.location


class ToolchainError(BpfBuildError):
    """No usable compiler, or the compiler could not be run."""


class CompileError(ToolchainError):
    """The compiler ran and failed; its diagnostics are in ``stderr`` unchanged."""

    def __init__(self, message: str, *, argv: Sequence[str], returncode: int, stderr: str,
                 file: str | None = None) -> None:
        super().__init__(message, file=file)
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr


class ObjectError(BpfBuildError):
    """An object file that cannot be read: not ELF, truncated, corrupt section..."""

    def __init__(self, message: str, *, section: str | None = None, offset: int | None = None,
                 file: str | None = None) -> None:
        super().__init__(message, file=file)
        self.section = section
        self.offset = offset

    @property
    def where(self) -> str | None:
        if self.section is None:
            return None
        return f"section {self.section}" + (f"+{self.offset:#x}" if self.offset is not None else "")


class BTFError(ObjectError):
    """Corrupt or unsupported BTF / BTF.ext data."""


class TargetMismatch(ObjectError):
    """A sound object the target kernel cannot take: a strong extern (kfunc, ksym, Kconfig) the
    target lacks or declares otherwise.  libbpf fails the load there; another kernel may take it."""


class ProgramError(BpfBuildError):
    """Something wrong with a program at an instruction (pc) and, if known, a source line."""

    def __init__(self, message: str, *, pc: int | None = None,
                 location: SourceLocation | None = None, file: str | None = None) -> None:
        super().__init__(message, file=file)
        self.pc = pc
        self.location = location

    @property
    def position(self) -> SourceLocation | None:
        return self.location

    @property
    def where(self) -> str | None:
        return f"insn {self.pc}" if self.pc is not None else None


class DecodeError(ProgramError):
    """Bytes that are not a valid eBPF instruction (``pc``: the slot)."""

    def __init__(self, message: str, *, pc: int | None = None, file: str | None = None) -> None:
        super().__init__(message, pc=pc, file=file)


class VMError(ProgramError):
    """A fault while emulating a program (bad access, budget exhausted, unknown helper...)."""

    exit_status = 1


class AsmError(BpfBuildError):
    """Assembler text that does not parse; ``line`` is 1-based."""

    def __init__(self, message: str, *, line: int | None = None, file: str | None = None) -> None:
        super().__init__(message, file=file)
        self.line = line

    @property
    def position(self) -> SourceLocation | None:
        return SourceLocation(self.file or "<asm>", self.line) if self.line is not None else None


class NotEmulated(VMError):
    """The program used something the emulator does not model (a helper, a kfunc, a map type):
    not a fault of the program.  ``what`` names it (``bpf_sk_lookup_tcp#84``, ``sockmap map
    sock_map``); the message is ``not emulated: <what>``.  Raised where it is used, never at
    load, so an object whose other programs do not touch it still runs."""

    def __init__(self, what: str, *, pc: int | None = None, location: SourceLocation | None = None,
                 file: str | None = None) -> None:
        super().__init__(f"not emulated: {what}", pc=pc, location=location, file=file)
        self.what = what


class SkelError(BpfBuildError):
    """A skeleton cannot be generated (e.g. an identifier that is not valid C)."""


class KernelError(BpfBuildError):
    """The kernel or libbpf refused: no permission, no libbpf, no bpffs, a failed syscall."""

    def __init__(self, message: str, *, errno: int | None = None, file: str | None = None) -> None:
        super().__init__(message, file=file)
        self.errno = errno


class LoadRejected(KernelError):
    """The kernel's verifier refused to load a program (its log says why)."""

    exit_status = 1
