"""The ``bpfbuild`` command.

Each area registers its subcommands from its own module (``bpfbuild/cli/<area>.py`` exposes
``register(subparsers)``); handlers take the parsed ``argparse.Namespace`` and return an exit
code.  Errors the user can cause are ``BpfBuildError``s: printed here as one line
(:func:`~bpfbuild.errors.format_error`), exit with the error's ``exit_status`` (1: the program
is wrong, 2: anything else).
Handlers import their heavy modules inside the function, so ``bpfbuild --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bpfbuild import __version__
from bpfbuild.errors import BpfBuildError, format_error

__all__ = ["EXIT_REJECTED", "EXIT_USAGE", "build_parser", "main"]

EXIT_USAGE = 2      # unusable input, missing tool, no permission
EXIT_REJECTED = 1   # the program is wrong (verifier rejection, failing test)

# Subcommand modules, in the order their commands appear in --help.
_AREAS = ("toolchain", "inspect", "run", "coverage", "verify", "skel", "kernel", "probe", "project")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other error
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bpfbuild",
        description="Build, inspect, verify, emulate and load eBPF programs "
        "(the tool behind the doit tasks of a bpfbuild project).",
        epilog="Run `doit list` in a project for the build tasks.",
    )
    parser.add_argument("--version", action="version", version=f"bpfbuild {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for area in _AREAS:
        importlib.import_module(f"bpfbuild.cli.{area}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    bad = next((a for a in (sys.argv[1:] if argv is None else argv) if "\0" in a), None)
    if bad is not None:   # no path or name can hold one (os.* would raise ValueError)
        parser.error("argument '" + bad.replace(chr(0), chr(92) + "0") + "' contains a NUL byte")
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(handler(args) or 0)
    except BpfBuildError as exc:
        text = format_error(exc)
        print(text if exc.file or exc.position else f"bpfbuild: {text}", file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:
        # `bpfbuild dump ... | head`: stop quietly.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
