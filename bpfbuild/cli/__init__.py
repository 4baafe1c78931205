"""The ``bpfbuild`` command.

Each area registers its subcommands from its own module (``bpfbuild/cli/<area>.py`` exposes
``register(subparsers)``); handlers take the parsed ``argparse.Namespace`` and return an exit
code.  Errors the user can cause are ``BpfBuildError``s: printed here as one line, exit 2.
Handlers import their heavy modules inside the function, so ``bpfbuild --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bpfbuild import __version__
from bpfbuild.errors import BpfBuildError

__all__ = ["EXIT_REJECTED", "EXIT_USAGE", "build_parser", "main"]

EXIT_USAGE = 2      # unusable input, missing tool, no permission
EXIT_REJECTED = 1   # the program is wrong (verifier rejection, failing test)

# Subcommand modules, in the order their commands appear in --help.
_AREAS = ("toolchain", "inspect", "run", "verify", "skel", "kernel", "probe", "project")


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
        try:
            module = importlib.import_module(f"bpfbuild.cli.{area}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bpfbuild.cli.{area}":
                continue  # area not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(handler(args) or 0)
    except BpfBuildError as exc:
        print(f"bpfbuild: {exc}" if not exc.file and "error:" not in str(exc) else str(exc), file=sys.stderr)
        return getattr(exc, "exit_code", EXIT_USAGE)
    except BrokenPipeError:
        # `bpfbuild dump ... | head`: stop quietly.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
