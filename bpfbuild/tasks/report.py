"""The summary at the end of ``doit``: one row per program, and ``build/report.json`` for tools.

Stages leave a small JSON record per program in ``build/.results/<program>.<stage>.json``
(:func:`write_result`); the report only reads those records and stats files, so it costs
nothing on a no-op ``doit`` (no object is parsed here).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["cached_summary", "read_result", "report_rows", "summary_fingerprint", "task_report", "write_lcov",
           "write_result"]

RESULTS_DIR = ".results"
#: the last summary and what it was made of (build/.results/report.cache.json)
REPORT_CACHE = "report.cache.json"
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


#: The shape of each key a stage records: a record that has another shape (edited by hand, a
#: full disk, another version) is ignored as if absent: the stage runs again, nothing raises.
_SHAPES: dict[str, Any] = {
    "programs": [dict], "targets": {str: [dict]}, "passed": int, "failed": int, "not_emulated": [str],
    "coverage": dict, "errors": [dict], "not_modelled": [str],
}


def _has_shape(value: Any, shape: Any) -> bool:
    if isinstance(shape, list):
        return isinstance(value, list) and all(_has_shape(v, shape[0]) for v in value)
    if isinstance(shape, dict):
        (kt, vt), = shape.items()
        return isinstance(value, dict) and all(isinstance(k, kt) and _has_shape(v, vt) for k, v in value.items())
    return isinstance(value, shape) and not (shape is int and isinstance(value, bool))


def _valid_record(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    if not all(_has_shape(data[k], shape) for k, shape in _SHAPES.items()
               if k in data and not (k == "coverage" and data[k] is None)):
        return False
    cov = data.get("coverage")
    if cov is not None and not isinstance(cov.get("summary"), str):
        return False
    for p in data.get("programs") or []:
        if not all(p.get(k) is None or _has_shape(p[k], _SHAPES[k]) for k in ("errors", "not_modelled")):
            return False
        if not all(p.get(k) is None or isinstance(p[k], t) for k, t in (
                ("processed_insns", int), ("insns", int), ("name", str), ("type", str), ("verdict", str))):
            return False
    return True


def _read_small(path: Path) -> str | None:
    """A record under build/ (bounded: a FIFO or a huge file there is skipped, not waited on)."""
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.inputs import read_text_input

    try:
        return read_text_input(path, limit=64 << 20)
    except BpfBuildError:
        return None


def read_result(build_dir: Path, program: str, stage: str) -> dict[str, Any] | None:
    """The record of a stage, or None when it is absent, unreadable or of another shape."""
    text = _read_small(_result_path(build_dir, program, stage))
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return data if _valid_record(data) else None


def report_rows(project: Any) -> list[dict[str, Any]]:
    rows = []
    build_dir = project.config.build_dir
    for prog in project.config.programs():
        build = read_result(build_dir, prog.name, "build") or {}
        verify = read_result(build_dir, prog.name, "verify") or {}
        verdicts = {p.get("name"): p for p in verify.get("programs", [])}
        programs = [{**p, **{k: v for k, v in verdicts.get(p.get("name"), {}).items()
                             if k in ("verdict", "processed_insns", "errors", "not_modelled", "target")}}
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
            "coverage": test.get("coverage"),
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
        elif v == "unknown" and isinstance(p.get("target"), str):
            v += f" (this kernel: {p['target']})"
        if p.get("processed_insns") is not None:
            v += f" ({p['processed_insns']})"
        verdicts.append(v)
    return types, insns, ", ".join(verdicts)


def summary_fingerprint(project: Any) -> list[Any]:
    """What the summary is made of, by stat only: each program's result records, lcov, object
    and skeleton (mtime and size), and the configured target kernels.  JSON-able; equal
    fingerprints mean the summary text has not changed."""
    build_dir = project.config.build_dir
    out: list[Any] = [list(getattr(project.config, "target_kernels", ()))]
    for prog in project.config.programs():
        entry: list[Any] = [prog.name, str(prog.source)]
        for path in (*(_result_path(build_dir, prog.name, stage) for stage in ("build", "verify", "test")),
                     build_dir / RESULTS_DIR / f"{prog.name}.lcov", prog.object,
                     build_dir / f"{prog.name}.skel.h"):
            try:
                st = os.stat(path)
                entry.append([st.st_mtime_ns, st.st_size])
            except OSError:
                entry.append(None)
        out.append(entry)
    return out


def cached_summary(project: Any, fingerprint: list[Any] | None = None) -> str | None:
    """The summary text the last run printed, when nothing it was made of has changed since
    (and its report.json is still there), else None: a no-op ``doit`` reads one file, not every
    record.  ``fingerprint`` is :func:`summary_fingerprint` of ``project``, when the caller has
    it already; the no-op stamp (tasks/stamp.py) asks this for the text the next run prints."""
    build_dir = project.config.build_dir
    if fingerprint is None:
        fingerprint = summary_fingerprint(project)
    try:
        cache = json.loads((build_dir / RESULTS_DIR / REPORT_CACHE).read_text())
        if cache.get("fingerprint") == fingerprint and (build_dir / "report.json").exists():
            text = cache.get("text")
            return text if isinstance(text, str) else None
    except (OSError, ValueError, AttributeError):
        pass
    return None


def print_report(project: Any) -> None:
    build_dir = project.config.build_dir
    fingerprint = summary_fingerprint(project)
    text = cached_summary(project, fingerprint)
    if text is not None:
        sys.stdout.write(text)
        return
    rows = report_rows(project)
    targets = list(getattr(project.config, "target_kernels", ()))
    table = [("program", "type", "insns", "verifier (processed)", "tests", "coverage", "skeleton", *targets)]
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
        cov = r.get("coverage")
        table.append((r["program"], types, insns, verdict, tests, cov["summary"] if cov else "-",
                      "yes" if r["skeleton"] else "-", *cells))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines: list[str] = []
    for i, row in enumerate(table):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.extend(warnings)
    text = "".join(line + "\n" for line in lines)
    sys.stdout.write(text)
    write_lcov(build_dir, [r["program"] for r in rows])
    out = build_dir / "report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps({"programs": rows}, indent=2) + "\n")
    os.replace(tmp, out)
    cache = build_dir / RESULTS_DIR / REPORT_CACHE
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"fingerprint": fingerprint, "text": text}))
    except OSError:
        pass


def write_lcov(build_dir: Path, programs: list[str]) -> None:
    """``build/coverage.lcov``: the lcov records ``doit test`` left per program, merged (removed
    when no program has one)."""
    parts = []
    for name in programs:
        text = _read_small(build_dir / RESULTS_DIR / f"{name}.lcov")
        if text is not None:
            parts.append(text)
    out = build_dir / "coverage.lcov"
    if not parts:
        out.unlink(missing_ok=True)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(parts))
    os.replace(tmp, out)


def task_report() -> Any:
    """Print one row per program (type, instructions, verdict, tests, coverage, skeleton, target
    kernels); write build/report.json and build/coverage.lcov."""
    from bpfbuild.tasks.project import current_project

    project = current_project()
    return {
        "actions": [(print_report, [project])],
        "task_dep": list(STAGES),
        "uptodate": [False],
        "verbosity": 2,
        "doc": task_report.__doc__,
    }
