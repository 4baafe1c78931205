"""``bpfbuild verify OBJ``: the kernel's verdict at build time, with the error at the source line.

Exit status (tools and CI rely on it): 0 every program accepted, 1 any rejected, 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

__all__ = ["register", "relative_file"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("verify", help="check every program of an object with bpfbuild's verifier",
                       description="Verify every program of OBJ the way the Linux 6.18 verifier does (privileged "
                       "rules, as `sudo bpftool prog load` gets, unless --unprivileged). Rejections print as "
                       "file:line:col: error: <kernel message>, with an explanation and a fix hint. Exit status: "
                       "0 all accepted, 1 any rejected, 2 unusable input.")
    p.add_argument("object", metavar="OBJ")
    p.add_argument("program", metavar="PROG", nargs="?", help="only this program")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--log", nargs="?", const=1, type=int, choices=[1, 2], metavar="LEVEL",
                   help="print a kernel-style verifier log (level 1, or 2 for every state)")
    p.add_argument("--unprivileged", action="store_true", help="the rules for a loader without CAP_BPF")
    p.set_defaults(handler=_cmd)


def relative_file(path: str, root: str | None = None) -> str:
    """A source path as the user typed it: relative to ``root`` (default: cwd) when inside it."""
    root = os.path.abspath(root or os.getcwd())
    absolute = os.path.abspath(path)
    if absolute == root or absolute.startswith(root + os.sep):
        return os.path.relpath(absolute, root)
    return path


def report_record(report: Any) -> dict[str, Any]:
    return {
        "name": report.program,
        "section": report.section,
        "verdict": report.verdict,
        "processed_insns": report.processed_insns,
        "errors": [{
            "insn": d.insn,
            "file": relative_file(d.location.file) if d.location else None,
            "line": d.location.line if d.location else None,
            "column": d.location.column if d.location else None,
            "message": d.message,
        } for d in report.errors],
    }


def _cmd(args: argparse.Namespace) -> int:
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.obj.loader import load_object_file
    from bpfbuild.verifier import verify

    spec = load_object_file(args.object)
    programs = [p for p in spec.programs if args.program in (None, p.name)]
    if args.program is not None and not programs:
        names = ", ".join(p.name for p in spec.programs) or "none"
        raise BpfBuildError(f"no program {args.program!r} (programs: {names})", file=args.object)
    reports = []
    for prog in programs:
        try:
            reports.append(verify(spec, prog, unprivileged=args.unprivileged, log_level=args.log or 0))
        except BpfBuildError as exc:
            raise exc.with_file(args.object) from None
    if args.json:
        print(json.dumps({"programs": [report_record(r) for r in reports]}, indent=2))
    else:
        for r in reports:
            if args.log:
                print(r.log, end="" if r.log.endswith("\n") else "\n")
            for d in r.errors:
                print(d.format(relative_file(d.location.file) if d.location else args.object))
            print(f"{r.program}: {r.verdict} ({r.processed_insns} insns processed)")
    return 0 if all(r.accepted for r in reports) else 1
