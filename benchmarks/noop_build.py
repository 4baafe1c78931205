"""How much does `doit` cost when there is nothing (or one file) to do?

Builds a temporary tree of 20 programs (copies of programs/*.bpf.c under new names), then
times, several runs each, medians:
  floor   `doit` on an empty dodo.py (doit's own start-up: the least any doit project costs)
  noop    `doit` with everything up to date
  edit1   `doit` after editing one source (one compile)
  make    the same tree under the classic tutorial Makefile: no-op `make`, and one edited file
and prints each as a ratio against the floor measured in the same run (machines are shared and
noisy; ratios drift less than seconds).  Target: noop <= 1.3x floor.

Then the no-op stamp (build/.noop-stamp.json), on two projects: a copy of programs/ (with its
test specs and configuration) and a generated 40-program project (copies of programs/ with
their specs).  Each run edits one source, builds (not timed), then times, alternately:
  floor   `doit` on the empty dodo.py
  first   the first no-op `doit` after that build
  steady  the no-op after that one
and prints the median of each against the median floor (and the CPU-time ratios).

Every run may cache bytecode (as an installed package does), in a temporary PYTHONPYCACHEPREFIX
even where PYTHONDONTWRITEBYTECODE is set: without it each run would recompile bpfbuild's
sources and measure the compiler rather than the build.

    python benchmarks/noop_build.py [--runs N] [--noop-only] [--stamp-only]

--noop-only times just floor and noop, alternately (more runs in the same time: the machine's
load moves both alike); the spread printed is the quartiles of the per-run noop/floor ratios.  --stamp-only: only the
first/steady no-op section.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
N_PROGRAMS = 20

MAKEFILE = """TARGETS = {targets}
all: $(TARGETS)
$(TARGETS): %: %.bpf.o
%.bpf.o: %.bpf.c
\tclang -target bpf -I/usr/include/$(shell uname -m)-linux-gnu -g -O2 -o $@ -c $<
"""


def make_tree(root: Path) -> list[Path]:
    programs = root / "programs"
    programs.mkdir(parents=True)
    sources = sorted((REPO / "programs").glob("*.bpf.c"))
    for header in (REPO / "programs").glob("*.h"):
        shutil.copy(header, programs / header.name)
    made = []
    for i in range(N_PROGRAMS):
        src = sources[i % len(sources)]
        dst = programs / f"p{i:02d}_{src.name}"
        shutil.copy(src, dst)
        made.append(dst)
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    (root / "pyproject.toml").write_text("[tool.bpfbuild]\n")
    _empty_dodo(root / "empty")
    # The Makefile works in its own copy of the programs folder, like the tutorial's (so its edits
    # never disturb doit's no-op runs).
    make_dir = root / "make"
    shutil.copytree(programs, make_dir)
    targets = " ".join(p.name[: -len(".bpf.c")] for p in made)
    (make_dir / "Makefile").write_text(MAKEFILE.format(targets=targets))
    return made


def _empty_dodo(empty: Path) -> None:
    empty.mkdir()
    (empty / "dodo.py").write_text("DOIT_CONFIG = {'dep_file': '.doit.db', 'backend': 'json'}\n"
                                   "def task_nothing():\n    return {'actions': None}\n")


ENV: dict[str, str] = {}


CPU: dict[str, list[float]] = {}


def timed(argv: list[str], cwd: Path, name: str = "") -> float:
    """Wall time of one run; its CPU time (user + system of the child) goes to CPU[name]: on a
    shared machine the CPU time moves much less with the other load than the wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(name, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


STAMP_PROJECT_PROGRAMS = 40


def make_stamp_project(root: Path, copies: int | None) -> list[Path]:
    """programs/ as it is (``copies`` None) or ``copies`` programs made of its sources and specs;
    the repository's [tool.bpfbuild] table either way.  Returns the sources."""
    programs = root / "programs"
    programs.mkdir(parents=True)
    for header in (REPO / "programs").glob("*.h"):
        shutil.copy(header, programs / header.name)
    sources = sorted((REPO / "programs").glob("*.bpf.c"))
    made = []
    for i in range(len(sources) if copies is None else copies):
        src = sources[i % len(sources)]
        stem = src.name[: -len(".bpf.c")]
        name = stem if copies is None else f"p{i:02d}_{stem}"
        shutil.copy(src, programs / f"{name}.bpf.c")
        spec = src.with_name(f"{stem}.test.toml")
        if spec.exists():
            shutil.copy(spec, programs / f"{name}.test.toml")
        made.append(programs / f"{name}.bpf.c")
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    # the repository's [tool.bpfbuild] tables (for the copies only the main one: the per-program
    # tables name programs/ as they are, and the copies find vmlinux.h with no configuration)
    tables = re.split(r"^(?=\[)", (REPO / "pyproject.toml").read_text(), flags=re.MULTILINE)
    keep = ("[tool.bpfbuild]", "[tool.bpfbuild.") if copies is None else ("[tool.bpfbuild]",)
    (root / "pyproject.toml").write_text("".join(t for t in tables if t.startswith(keep)))
    return made


def stamp_section(tmp: Path, doit: list[str], runs: int) -> None:
    """First and steady no-op after a build, against the floor, on programs/ and on 40 programs."""
    for label, copies in (("programs/", None), (f"{STAMP_PROJECT_PROGRAMS} programs", STAMP_PROJECT_PROGRAMS)):
        root = tmp / f"stamp-{copies or 'programs'}"
        made = make_stamp_project(root, copies)
        subprocess.run(doit, cwd=root, check=True, stdout=subprocess.DEVNULL, env=ENV)
        times: dict[str, list[float]] = {"floor": [], "first": [], "steady": []}
        hits = 0
        for run in range(runs):
            with made[run % len(made)].open("a") as fh:
                fh.write(f"/* stamp edit {run} */\n")
            subprocess.run(doit, cwd=root, check=True, stdout=subprocess.DEVNULL, env=ENV)
            hits += (root / "build" / ".noop-stamp.json").exists()
            times["floor"].append(timed(doit, tmp / "empty", f"{label} floor"))
            times["first"].append(timed(doit, root, f"{label} first"))
            times["steady"].append(timed(doit, root, f"{label} steady"))
        floor = statistics.median(times["floor"])
        cpu_floor = statistics.median(CPU[f"{label} floor"])
        print(f"{label}: {runs} runs (edit one source, build, then floor / first no-op / steady no-op); "
              f"stamp written after {hits} of {runs} builds")
        for name in ("floor", "first", "steady"):
            med = statistics.median(times[name])
            cpu = statistics.median(CPU[f"{label} {name}"])
            print(f"  {name:7s} {med * 1000:8.1f} ms  {med / floor:5.2f}x floor   cpu {cpu * 1000:6.1f} ms  "
                  f"{cpu / cpu_floor:5.2f}x")
        print(f"  no-op / floor: first {statistics.median(times['first']) / floor:.2f}, "
              f"steady {statistics.median(times['steady']) / floor:.2f} (target <= 1.3)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--noop-only", action="store_true", help="time only floor and noop, alternately")
    parser.add_argument("--stamp-only", action="store_true", help="only the first/steady no-op section")
    args = parser.parse_args()
    doit = [sys.executable, "-m", "doit"]
    if args.stamp_only:
        with tempfile.TemporaryDirectory(prefix="bpfbuild-bench-") as tmp:
            root = Path(tmp)
            _empty_dodo(root / "empty")
            ENV.update({k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
            ENV["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
            subprocess.run(doit, cwd=root / "empty", check=True, stdout=subprocess.DEVNULL, env=ENV)
            stamp_section(root, doit, args.runs)
        return 0
    with tempfile.TemporaryDirectory(prefix="bpfbuild-bench-") as tmp:
        root = Path(tmp)
        made = make_tree(root)
        ENV.update({k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
        ENV["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        subprocess.run(doit, cwd=root, check=True, stdout=subprocess.DEVNULL, env=ENV)
        subprocess.run(doit, cwd=root / "empty", check=True, stdout=subprocess.DEVNULL, env=ENV)
        have_make = shutil.which("make") is not None and shutil.which("clang") is not None
        if have_make:
            subprocess.run(["make", "-s"], cwd=root / "make", check=True, stdout=subprocess.DEVNULL)
        results: dict[str, list[float]] = {"floor": [], "noop": [], "edit1": [], "make noop": [], "make edit1": []}
        for run in range(args.runs):
            results["floor"].append(timed(doit, root / "empty", "floor"))
            results["noop"].append(timed(doit, root, "noop"))
            if args.noop_only:
                continue
            with made[0].open("a") as fh:
                fh.write(f"/* edit {run} */\n")
            results["edit1"].append(timed(doit, root))
            if have_make:
                results["make noop"].append(timed(["make", "-s"], root / "make"))
                with (root / "make" / made[0].name).open("a") as fh:
                    fh.write(f"/* edit {run} */\n")
                results["make edit1"].append(timed(["make", "-s"], root / "make"))
    floor = statistics.median(results["floor"])
    print(f"{N_PROGRAMS} programs, {args.runs} runs each, medians; ratios against `doit` on an empty dodo")
    for name, times in results.items():
        if not times:
            print(f"  {name:11s} skipped" + (" (--noop-only)" if args.noop_only else " (make or clang missing)"))
            continue
        med = statistics.median(times)
        print(f"  {name:11s} {med * 1000:8.1f} ms   {med / floor:5.2f}x floor")
    ratio = statistics.median(results["noop"]) / floor
    cpu = statistics.median(CPU["noop"]) / statistics.median(CPU["floor"])
    print(f"  cpu: floor {statistics.median(CPU['floor']) * 1000:.1f} ms, noop {statistics.median(CPU['noop']) * 1000:.1f} ms")
    pairs = sorted(n / f for n, f in zip(results["noop"], results["floor"]))
    if len(pairs) >= 2:
        q1, _, q3 = statistics.quantiles(pairs, n=4)
        print(f"  per-run noop/floor: median {statistics.median(pairs):.2f}, quartiles {q1:.2f}-{q3:.2f}, "
              f"range {pairs[0]:.2f}-{pairs[-1]:.2f}")
    print(f"no-op doit / floor = {ratio:.2f} wall, {cpu:.2f} cpu (target <= 1.3)")
    if not args.noop_only:
        with tempfile.TemporaryDirectory(prefix="bpfbuild-bench-") as tmp:
            _empty_dodo(Path(tmp) / "empty")
            ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
            subprocess.run(doit, cwd=Path(tmp) / "empty", check=True, stdout=subprocess.DEVNULL, env=ENV)
            stamp_section(Path(tmp), doit, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
