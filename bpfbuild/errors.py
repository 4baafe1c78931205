"""One error tree for the whole package.

Every failure a user can cause (bad input, a missing tool, a broken program) is a
``BpfBuildError`` subclass carrying typed fields; ``str(err)`` is the one line the CLI
and the doit tasks print.  Foreign exceptions are translated where they enter
(``raise ... from exc``).  Verifying is not exceptional: the verifier returns a report.
"""

from __future__ import annotations

from collections.abc import Sequence

from bpfbuild.location import SourceLocation

__all__ = [
    "AsmError",
    "BTFError",
    "BpfBuildError",
    "CompileError",
    "ConfigError",
    "DecodeError",
    "KernelError",
    "NotEmulated",
    "ObjectError",
    "ProgramError",
    "SkelError",
    "SpecError",
    "ToolchainError",
    "VMError",
]


class BpfBuildError(Exception):
    """Root of every error bpfbuild raises on purpose.

    ``file`` (optional) is the input the error is about; ``str()`` prefixes it
    as ``file: message`` so the CLI can print the error as one line.
    """

    def __init__(self, message: str, *, file: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file

    def with_file(self, file: str) -> BpfBuildError:
        """Attach the input's path (used by the path-taking wrappers of pure functions)."""
        if self.file is None:
            self.file = file
        return self

    def __str__(self) -> str:
        return f"{self.file}: {self.message}" if self.file else self.message


class ConfigError(BpfBuildError):
    """Invalid ``[tool.bpfbuild]`` configuration or command-line option."""


class SpecError(ConfigError):
    """A test spec (``programs/<name>.test.toml``) or emulator input that cannot be used:
    bad TOML, an unknown key, a value of the wrong type.  ``location`` points into the spec."""

    def __init__(self, message: str, *, location: SourceLocation | None = None,
                 file: str | None = None) -> None:
        super().__init__(message, file=file if file is not None else location.file if location else None)
        self.location = location

    def __str__(self) -> str:
        if self.location is not None:
            return f"{self.location}: error: {self.message}"
        return f"{self.file}: error: {self.message}" if self.file else self.message


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

    def __str__(self) -> str:
        where = ""
        if self.section is not None:
            where = f"section {self.section}"
            if self.offset is not None:
                where += f"+{self.offset:#x}"
            where += ": "
        text = where + self.message
        return f"{self.file}: {text}" if self.file else text


class BTFError(ObjectError):
    """Corrupt or unsupported BTF / BTF.ext data."""


class DecodeError(BpfBuildError):
    """Bytes that are not a valid eBPF instruction."""

    def __init__(self, message: str, *, pc: int | None = None, file: str | None = None) -> None:
        super().__init__(message, file=file)
        self.pc = pc

    def __str__(self) -> str:
        text = f"insn {self.pc}: {self.message}" if self.pc is not None else self.message
        return f"{self.file}: {text}" if self.file else text


class AsmError(BpfBuildError):
    """Assembler text that does not parse; ``line`` is 1-based."""

    def __init__(self, message: str, *, line: int | None = None, file: str | None = None) -> None:
        super().__init__(message, file=file)
        self.line = line

    def __str__(self) -> str:
        where = self.file or "<asm>"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: error: {self.message}"


class ProgramError(BpfBuildError):
    """Something wrong with a program at an instruction (pc) and, if known, a source line."""

    def __init__(self, message: str, *, pc: int | None = None,
                 location: SourceLocation | None = None, file: str | None = None) -> None:
        super().__init__(message, file=file)
        self.pc = pc
        self.location = location

    def __str__(self) -> str:
        if self.location is not None:
            return f"{self.location}: error: {self.message}"
        prefix = f"{self.file}: " if self.file else ""
        at = f"insn {self.pc}: " if self.pc is not None else ""
        return f"{prefix}{at}{self.message}"


class VMError(ProgramError):
    """A fault while emulating a program (bad access, budget exhausted, unknown helper...)."""


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
