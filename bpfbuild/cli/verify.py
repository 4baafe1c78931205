"""``bpfbuild verify OBJ [PROG]``: the built-in verifier's verdict on every program of an object.

A rejection is reported compiler-style -- ``file:line:col: error: <kernel message>``, the
source line, notes (the program and instruction, the kernel's earlier lines for the same
error), a plain-language explanation and a fix hint -- followed by one summary line per
program.  ``--log`` prints the kernel-style verifier log first (level 1: the failing path; 2:
every instruction and state); ``--unprivileged`` applies the rules for a loader without
CAP_BPF.  A program using something the verifier does not model (a helper without a prototype,
a kfunc...) gets the verdict ``unknown``, never a guess: its summary says ``unknown (not
modelled: <what>)`` and what the partial model found is printed as warnings.

``--json`` prints only ``{"programs": [{"name", "section", "verdict", "processed_insns",
"errors": [{"insn", "file", "line", "column", "message"}]}]}`` on stdout (a log goes to
stderr); an error without BTF line info names the object, line 0, column 0.  ``verdict`` is
``accepted``, ``rejected`` or ``unknown``; an unknown program has no ``errors`` and a
``not_modelled`` list of reasons.

Exit status (tools and CI rely on it): 0 every program accepted, 1 any rejected, 2 unusable
input (not an eBPF object, no such program, a section naming no program type), 3 none rejected
but some verdict unknown.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from bpfbuild.location import shown_path

if TYPE_CHECKING:
    from bpfbuild.verifier.report import Report

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "verify", help="check every program of an object with bpfbuild's verifier (the kernel's rules, no root)",
        description="Verify every program of OBJ the way the Linux 6.18 verifier does, without a kernel "
        "(privileged rules, as `sudo bpftool prog load` gets, unless --unprivileged). Rejections print as "
        "file:line:col: error: <kernel message>, with an explanation and a fix hint. Exit status: "
        "0 all accepted, 1 any rejected, 2 unusable input, 3 some verdict unknown (not modelled).")
    p.add_argument("object", metavar="OBJ", help="the object (clang -target bpf -g -O2 -c ...)")
    p.add_argument("program", metavar="PROG", nargs="?", help="only this program")
    p.add_argument("--json", action="store_true",
                   help='print {"programs": [{name, section, verdict, processed_insns, errors}]}')
    p.add_argument("--log", nargs="?", const=1, type=int, choices=[1, 2], metavar="LEVEL",
                   help="print a kernel-style verifier log: 1 (default) the failing path, 2 every instruction")
    p.add_argument("--unprivileged", action="store_true",
                   help="the rules for a loader without CAP_BPF/CAP_PERFMON (default: privileged)")
    p.add_argument("--kernel", action="append", default=[], metavar="TARGET",
                   help="also check the features the object uses against a target kernel: a version (5.15), "
                   "`running` (probe this kernel) or a saved `bpfbuild probe --json` file; repeatable; "
                   "each lacking feature is an error at the line that uses it (exit 1)")
    p.set_defaults(handler=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.obj.loader import load_object_file
    from bpfbuild.verifier import verify

    spec = load_object_file(args.object)
    if args.program is not None:
        try:
            programs = [spec.program(args.program)]
        except BpfBuildError as exc:
            raise exc.with_file(args.object) from None
    else:
        programs = list(spec.programs)
    if not programs:
        raise BpfBuildError("no eBPF programs in this object", file=args.object)
    reports = []
    for prog in programs:
        try:
            reports.append(verify(spec, prog, unprivileged=args.unprivileged, log_level=args.log or 0))
        except BpfBuildError as exc:
            raise exc.with_file(args.object) from None
    lacks = _target_lacks(spec, programs, args.kernel)
    rejected = any(r.rejected for r in reports) or any(lacks.values())
    status = 1 if rejected else 3 if any(r.unknown for r in reports) else 0
    if args.json:
        for r in reports:
            if r.log:
                sys.stderr.write(r.log)
        doc: dict[str, object] = {"programs": [_record(r, args.object) for r in reports]}
        if args.kernel:
            doc["targets"] = {name: [_lack_record(lack, args.object) for lack in found]
                              for name, found in lacks.items()}
        print(json.dumps(doc, indent=2))
        return status
    for r in reports:
        if r.log:
            sys.stdout.write(r.log if r.log.endswith("\n") else r.log + "\n")
        for d in r.errors:
            print(d.format(shown_path(d.location.file) if d.location else args.object, r.program,
                           severity="warning" if r.unknown else "error"))
        print(f"{args.object}: prog '{r.program}' ({r.section}): {r.summary} ({r.processed_insns} insns processed)")
        for note in r.notes:
            print(f"{args.object}: prog '{r.program}': not modelled: {note}", file=sys.stderr)
    for name, found in lacks.items():
        for lack in found:
            print(_lack_line(lack, args.object))
        print(f"{args.object}: target {name}: " + (f"lacks {len(found)} feature{'s' if len(found) != 1 else ''} "
                                                   "the object uses" if found else "has every feature the object uses"))
    return status


def _target_lacks(spec: object, programs: list[object], targets: list[str]) -> dict[str, list[object]]:
    """Per target name: the features of ``programs`` it lacks."""
    if not targets:
        return {}
    from dataclasses import replace

    from bpfbuild.kernel.probe import target_for
    from bpfbuild.obj.compat import check_object

    only = replace(spec, programs=tuple(programs))  # type: ignore[type-var]
    return {name: list(check_object(only, target_for(name))) for name in targets}


def _lack_line(lack: object, obj: str) -> str:
    loc = lack.feature.location  # type: ignore[attr-defined]
    if loc is None:
        return lack.line(obj)  # type: ignore[attr-defined]
    col = f":{loc.column}" if loc.column else ""
    return f"{shown_path(loc.file)}:{loc.line}{col}: error: {lack.message}"  # type: ignore[attr-defined]


def _lack_record(lack: object, obj: str) -> dict[str, object]:
    loc = lack.feature.location  # type: ignore[attr-defined]
    return {"program": lack.feature.program, "feature": lack.feature.title,  # type: ignore[attr-defined]
            "since": lack.feature.since, "insn": lack.feature.pc,  # type: ignore[attr-defined]
            "file": shown_path(loc.file) if loc else obj, "line": loc.line if loc else 0,
            "column": loc.column if loc else 0, "message": lack.message}  # type: ignore[attr-defined]


def _record(report: Report, obj: str) -> dict[str, object]:
    record = report.as_dict(shown_path)
    for err in record["errors"]:
        if not err["file"]:
            err["file"] = obj
    return record
