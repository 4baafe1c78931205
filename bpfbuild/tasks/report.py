"""The summary at the end of ``doit``: one row per program, and ``build/report.json`` for tools.

Stages leave a small JSON record per program in ``build/.results/<program>.<stage>.json``
(:func:`write_result`); the report only reads those records and stats files, so it costs
nothing on a no-op ``doit`` (no object is parsed here).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["read_result", "report_rows", "task_report", "write_result"]

RESULTS_DIR = ".results"
#: The stages the summary waits for (the default doit chain).
STAGES = ["build", "verify", "test", "skel"]


def _result_path(build_dir: Path, program: str, stage: str) -> Path:
    return build_dir / RESULTS_DIR / f"{program}.{stage}.json"


def write_result(build_dir: Path, program: str, stage: str, data: dict[str, Any]) -> None:
    """Record a stage's outcome for a program (atomically; read by the summary)."""
    path = _result_path(build_dir, program, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def read_result(build_dir: Path, program: str, stage: str) -> dict[str, Any] | None:
    try:
        data = json.loads(_result_path(build_dir, program, stage).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def report_rows(project: Any) -> list[dict[str, Any]]:
    rows = []
    build_dir = project.config.build_dir
    for prog in project.config.programs():
        build = read_result(build_dir, prog.name, "build") or {}
        verify = read_result(build_dir, prog.name, "verify") or {}
        verdicts = {p.get("name"): p for p in verify.get("programs", [])}
        programs = [{**p, **{k: v for k, v in verdicts.get(p.get("name"), {}).items()
                             if k in ("verdict", "processed_insns", "errors", "not_modelled")}}
                    for p in build.get("programs", [])]
        test = read_result(build_dir, prog.name, "test") or {}
        built = prog.object.exists()
        rows.append({
            "program": prog.name,
            "source": str(prog.source),
            "object": str(prog.object) if built else None,
            "programs": programs,
            "tests": {"passed": test.get("passed", 0), "failed": test.get("failed", 0),
                      "spec": test.get("spec"), "not_emulated": test.get("not_emulated", [])} if test else None,
            "skeleton": (build_dir / f"{prog.name}.skel.h").exists(),
            "targets": {name: [lack.get("feature") for lack in found]
                        for name, found in (verify.get("targets") or {}).items()},
        })
    return rows


def _cell_programs(row: dict[str, Any]) -> tuple[str, str, str]:
    progs = row["programs"]
    if not progs:
        return "-", "-", "-"
    types = ",".join(sorted({p.get("type", "?") for p in progs}))
    insns = ",".join(str(p.get("insns", "?")) for p in progs)
    verdicts = []
    for p in progs:
        v = p.get("verdict", "-")
        if v == "unknown" and p.get("not_modelled"):
            v += f" (not modelled: {'; '.join(p['not_modelled'])})"
        if p.get("processed_insns") is not None:
            v += f" ({p['processed_insns']})"
        verdicts.append(v)
    return types, insns, ", ".join(verdicts)


def print_report(project: Any) -> None:
    rows = report_rows(project)
    targets = list(getattr(project.config, "target_kernels", ()))
    table = [("program", "type", "insns", "verifier (processed)", "tests", "skeleton", *targets)]
    warnings: list[str] = []
    for r in rows:
        types, insns, verdict = _cell_programs(r)
        t = r["tests"]
        tests = "-" if t is None else ("no spec" if t["spec"] is False else f"{t['passed']} passed"
                                       + (f", {t['failed']} failed" if t["failed"] else ""))
        if t is not None and t.get("not_emulated"):
            tests += " (not emulated)"
            warnings.extend(f"{r['program']}: warning: not emulated: {what}" for what in t["not_emulated"])
        cells = []
        for name in targets:   # per target kernel: ok, or how many features it lacks
            lacks = r["targets"].get(name)
            cells.append("-" if lacks is None else "ok" if not lacks else f"lacks {len(lacks)}")
        table.append((r["program"], types, insns, verdict, tests, "yes" if r["skeleton"] else "-", *cells))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for line in warnings:
        print(line)
    out = project.config.build_dir / "report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps({"programs": rows}, indent=2) + "\n")
    os.replace(tmp, out)


def task_report() -> Any:
    """Print one row per program (type, instructions, verdict, tests, skeleton, target kernels); write build/report.json."""
    from bpfbuild.tasks.project import current_project

    project = current_project()
    return {
        "actions": [(print_report, [project])],
        "task_dep": list(STAGES),
        "uptodate": [False],
        "verbosity": 2,
        "doc": task_report.__doc__,
    }
