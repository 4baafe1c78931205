"""``bpfbuild coverage OBJ [--spec FILE]``: which source lines and branches a spec's cases run.

Runs every case of the spec (default: the ``<name>.test.toml`` next to the object's source,
found through the object's line info, or ``programs/<name>.test.toml``) in the emulator with
coverage counting, and prints the source annotated as ``coverage annotate`` does: ``>`` and
the count for executed lines, ``!`` for lines no case executed, ``# never taken`` /
``# never fell through`` after a conditional jump that only ever went one way.  Then one
``file:line:col: warning: never executed by any case`` per uncovered line and the summary.
``--lcov FILE`` also writes the lcov tracefile; ``--json`` prints the numbers instead.
Exit 1 when a case fails or a ``min_coverage`` of the spec is not reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("coverage", help="source lines and branches a test spec's cases execute",
                       description=__doc__.split("\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("object", metavar="OBJ", help="a compiled object (build/NAME.bpf.o)")
    p.add_argument("--spec", metavar="FILE", help="the test spec (default: NAME.test.toml beside the source)")
    p.add_argument("--lcov", metavar="FILE", help="also write an lcov tracefile")
    p.add_argument("--json", action="store_true", help="print the numbers and uncovered lines as JSON")
    p.set_defaults(handler=_cmd)


def _find_spec(obj_path: Path, objspec: object) -> Path | None:
    name = obj_path.name.removesuffix(".bpf.o").removesuffix(".o")
    candidates = []
    for program in getattr(objspec, "programs", ()):
        for rec in getattr(program, "line_info", ())[:1]:
            candidates.append(Path(rec.location.file).with_name(name + ".test.toml"))
    candidates += [Path("programs") / f"{name}.test.toml", obj_path.with_name(f"{name}.test.toml")]
    return next((c for c in candidates if c.is_file()), None)


def _cmd(args: argparse.Namespace) -> int:
    from bpfbuild.errors import SpecError
    from bpfbuild.obj.loader import load_object_file
    from bpfbuild.vm.coverage import Coverage
    from bpfbuild.vm.specrun import run_spec
    from bpfbuild.vm.testspec import load_spec

    obj_path = Path(args.object)
    objspec = load_object_file(obj_path)
    spec_path = Path(args.spec) if args.spec else _find_spec(obj_path, objspec)
    if spec_path is None:
        raise SpecError(f"{args.object}: no test spec found (looked for programs/"
                        f"{obj_path.name.removesuffix('.bpf.o')}.test.toml): give --spec FILE")
    shown = os.path.relpath(spec_path) if spec_path.is_absolute() and not os.path.relpath(spec_path).startswith("..") \
        else str(spec_path)
    spec_path = Path(shown)
    spec = load_spec(spec_path)
    coverage = Coverage()
    result = run_spec(spec, objspec, coverage=coverage)
    report = coverage.report(objspec)
    root = os.getcwd()
    if args.lcov:
        Path(args.lcov).write_text(report.lcov(obj_path.name.removesuffix(".bpf.o"), root))
    below = [f"{what} {got:.1f}% < {want:g}%" for what, got, want in (
        ("lines", report.line_percent, spec.min_coverage.get("lines")),
        ("branches", report.branch_percent, spec.min_coverage.get("branches"))) if want is not None and got < want]
    if args.json:
        print(json.dumps({**report.as_dict(), "cases": result.summary(), "below_minimum": below}, indent=2))
    else:
        out = sys.stdout
        out.write(report.annotate())
        for line in report.warnings(root):
            out.write(line + "\n")
        missed = report.missed_branches()
        out.write(f"{spec_path}: {result.summary()}; {report.summary()} ({report.lines_hit}/{report.lines_total} "
                  f"lines, {report.branches_hit}/{report.branches_total} branches"
                  + (f", {len(missed)} never-taken edges" if missed else "") + ")\n")
        for f in result.failures:
            sys.stderr.write(f.render(root) + "\n")
        if below:
            sys.stderr.write(f"{spec_path}:1:1: error: coverage below min_coverage: {', '.join(below)}\n")
    return 1 if below or not result.ok else 0
