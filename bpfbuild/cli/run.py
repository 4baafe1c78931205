"""Emulator commands: ``bpfbuild conformance-plugin``.

``conformance-plugin`` speaks the plugin protocol of the bpf_conformance suite
(github.com/Alan-Jowett/bpf_conformance): the runner starts ``plugin [MEM_HEX] [options]``,
writes the program as hex bytes on stdin, and reads r0 in hex from stdout (exit 0); any
error is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "conformance-plugin",
        help="run one program for the bpf_conformance suite (hex bytes on stdin, r0 in hex out)",
        description="Plugin for github.com/Alan-Jowett/bpf_conformance: reads the program as hex "
        "bytes on stdin, runs it in the emulator with r1 = a copy of MEM (r2 = its length), "
        "prints r0 in hex. The runner puts MEM_HEX first, so point it at a two-line wrapper "
        "script ('#!/bin/sh' and 'exec bpfbuild conformance-plugin \"$@\"'): "
        "bpf_conformance_runner --test_file_directory tests --plugin_path ./wrapper --cpu_version v4 "
        "--include_groups callx",
    )
    p.add_argument("memory", nargs="?", default="", metavar="MEM_HEX",
                   help="the input memory as hex bytes (spaces allowed)")
    p.add_argument("--elf", action="store_true", help="the input is an ELF object (not supported)")
    p.add_argument("--budget", type=int, default=None, metavar="N",
                   help="instructions a run may execute (default: 1000000)")
    p.add_argument("--debug", action="store_true", help="accepted for compatibility; ignored")
    p.set_defaults(handler=_cmd)


def _hex(text: str, what: str) -> bytes:
    from bpfbuild.errors import ConfigError

    try:
        return bytes.fromhex("".join(text.split()))
    except ValueError:
        raise ConfigError(f"{what} is not hex bytes") from None


def _cmd(args: argparse.Namespace) -> int:
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.vm import DEFAULT_BUDGET, run_bytecode

    try:
        if args.elf:
            print("ELF input is not supported: run the suite without --elf", file=sys.stderr)
            return 1
        mem = _hex(args.memory, "MEM_HEX")
        code = _hex(sys.stdin.read(), "the program on stdin")
        r0 = run_bytecode(code, mem, budget=args.budget or DEFAULT_BUDGET)
    except BpfBuildError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"{r0:x}")
    return 0
