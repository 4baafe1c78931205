"""How fast is bpfbuild's verifier, against the kernel's own verification time in the same run?

Workloads (each verified by bpfbuild and, when bpf() is permitted, loaded into the kernel with
log level 4, whose "verification time N usec" line is the baseline):
  programs   every program of programs/ (built by doit in a temporary copy of the project)
  corpus     every program of tests/verifier/corpus (clang -target bpf -g -O2)
  loop       a bounded loop of 20,000 iterations as bare bytecode (~200,000 processed insns)
For each workload it prints processed instructions per second for bpfbuild and for the kernel
and the slowdown (kernel rate / ours).  Target (issue 12): at most 25x on the loop, and 3x the rate
measured when the issue was filed on every row.  Processed counts are compared too: they are equal
when the exploration matches the kernel's.

With ``--baseline REF`` (e.g. ``main``) the same objects are also verified, in the same run, by the
bpfbuild of git revision REF (checked out in a temporary ``git worktree``, run in a subprocess),
and each row prints the speed-up over it.

    python benchmarks/verifier.py [--runs N] [--build DIR] [--baseline REF]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# a baseline worker (--tree DIR) imports the bpfbuild of that checkout instead of this one
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]) if "--tree" in sys.argv[:-1] else REPO
sys.path.insert(0, str(TREE))

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble, encode
from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier import verify, verify_insns

CFLAGS = ["-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-g", "-O2"]
LOOP = """
r0 = 0
r1 = 0
loop:
r2 = r1
r2 &= 7
*(u64 *)(r10 - 8) = r2
r3 = *(u64 *)(r10 - 8)
r0 += r3
r1 += 1
if r1 < 20000 goto loop
exit
"""


@dataclass
class Row:
    workload: str
    name: str
    ours_insns: int
    ours_usec: float
    kernel_insns: int | None = None
    kernel_usec: int | None = None
    base_insns: int | None = None
    base_usec: float | None = None


def _best(fn, runs: int) -> tuple[float, object]:
    best = float("inf")
    result = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e6, result


def _kernel_ok() -> bool:
    from bpfbuild.kernel import availability

    reason = availability()
    if reason:
        print(f"kernel baseline unavailable: {reason}")
    return reason is None


def _build_programs(build: str | None, tmp: Path) -> list[Path]:
    if build:
        return sorted(Path(build).glob("*.bpf.o"))
    root = tmp / "proj"
    shutil.copytree(REPO / "programs", root / "programs", ignore=shutil.ignore_patterns("*.toml"))
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    (root / "pyproject.toml").write_text('[tool.bpfbuild]\nverify = "warn"\n')
    env = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    res = subprocess.run([sys.executable, "-m", "doit", "build"], cwd=root, capture_output=True, text=True,
                         env=env, check=False)
    if res.returncode:
        print(f"cannot build programs/: {res.stderr[-300:]}")
        return []
    return sorted((root / "build").glob("*.bpf.o"))


def _build_corpus(tmp: Path) -> list[Path]:
    clang = shutil.which("clang")
    if clang is None:
        print("clang not found: the corpus is skipped")
        return []
    out = []
    for src in sorted((REPO / "tests" / "verifier" / "corpus").glob("*.bpf.c")):
        extra = []
        for line in src.read_text().splitlines()[:5]:
            if "cflags:" in line:
                extra = line.split("cflags:", 1)[1].replace("*/", "").split()
        obj = tmp / (src.name[:-2] + ".o")
        subprocess.run([clang, *CFLAGS, *extra, "-c", str(src), "-o", str(obj)], check=True)
        out.append(obj)
    return out


def _objects(workload: str, objects: list[Path], runs: int, kernel: bool) -> list[Row]:
    from bpfbuild.kernel import verdict

    rows = []
    for obj in objects:
        spec = load_object_file(obj)
        for prog in spec.programs:
            usec, report = _best(lambda p=prog, s=spec: verify(s, p), runs)
            row = Row(workload, f"{obj.name}:{prog.name}", report.processed_insns, usec)  # type: ignore[attr-defined]
            if kernel:
                k = verdict(obj, prog.name, log_level=4 if report.accepted else 1)  # type: ignore[attr-defined]
                row.kernel_insns, row.kernel_usec = k.processed_insns, k.verification_time_usec
            rows.append(row)
    return rows


def _loop(runs: int, kernel: bool) -> list[Row]:
    from bpfbuild.kernel import verdict_insns

    code = encode(assemble(LOOP))
    usec, report = _best(lambda: verify_insns(code, ProgType.XDP), runs)
    row = Row("loop", "20000 iterations", report.processed_insns, usec)  # type: ignore[attr-defined]
    if kernel:
        k = verdict_insns(code, "xdp", log_level=4)
        row.kernel_insns, row.kernel_usec = k.processed_insns, k.verification_time_usec
    return [row]


def _worker(objects: list[str], runs: int) -> int:
    """Baseline side: verify the given objects and the loop, print the rows as JSON."""
    rows = []
    for workload, path in (o.split("=", 1) for o in objects):
        rows += _objects(workload, [Path(path)], runs, False)
    rows += _loop(max(1, runs // 3), False)
    print(json.dumps([[r.workload, r.name, r.ours_insns, r.ours_usec] for r in rows]))
    return 0


def _baseline(ref: str, objects: list[tuple[str, Path]], runs: int, tmp: Path) -> dict[tuple[str, str], tuple[int, float]]:
    """Run the bpfbuild of git revision ``ref`` on the same objects (a temporary worktree)."""
    tree = tmp / "baseline"
    res = subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), ref],
                         capture_output=True, text=True, check=False)
    if res.returncode:
        print(f"baseline {ref}: {res.stderr.strip()[-300:]}")
        return {}
    try:
        argv = [sys.executable, str(Path(__file__).resolve()), "--tree", str(tree), "--runs", str(runs), "--worker",
                *(f"{w}={p}" for w, p in objects)]
        out = subprocess.run(argv, capture_output=True, text=True, check=False,
                             env={**os.environ, "PYTHONPATH": str(tree)})
        if out.returncode:
            print(f"baseline {ref}: {out.stderr.strip()[-300:]}")
            return {}
        return {(w, n): (i, u) for w, n, i, u in json.loads(out.stdout.splitlines()[-1])}
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                       capture_output=True, check=False)


def _summary(rows: list[Row], ref: str | None = None) -> None:
    print(f"{'workload':9} {'program':48} {'processed':>17} {'ours usec':>10} {'kernel usec':>11} {'base usec':>10}")
    for r in rows:
        processed = f"{r.ours_insns}/{r.kernel_insns if r.kernel_insns is not None else '-'}"
        print(f"{r.workload:9} {r.name[:48]:48} {processed:>17} {r.ours_usec:10.0f} "
              f"{r.kernel_usec if r.kernel_usec is not None else '-':>11} "
              f"{f'{r.base_usec:.0f}' if r.base_usec is not None else '-':>10}")
    print()
    for workload in dict.fromkeys(r.workload for r in rows):
        group = [r for r in rows if r.workload == workload]
        insns = sum(r.ours_insns for r in group)
        usec = sum(r.ours_usec for r in group)
        ours = insns / usec * 1e6 if usec else 0.0
        line = f"{workload:9} bpfbuild {ours:12,.0f} insns/s"
        timed = [r for r in group if r.kernel_usec and r.kernel_insns]
        based = [r for r in group if r.base_usec]
        if based:
            b_rate = sum(r.base_insns or 0 for r in based) / sum(r.base_usec or 0 for r in based) * 1e6
            o_rate = sum(r.ours_insns for r in based) / sum(r.ours_usec for r in based) * 1e6
            line += f"   {ref} {b_rate:12,.0f} insns/s   speed-up {o_rate / b_rate:5.2f}x"
        if timed:
            k_insns = sum(r.kernel_insns or 0 for r in timed)
            k_usec = sum(r.kernel_usec or 0 for r in timed)
            o_insns = sum(r.ours_insns for r in timed)
            o_usec = sum(r.ours_usec for r in timed)
            kernel = k_insns / k_usec * 1e6
            slowdown = kernel / (o_insns / o_usec * 1e6)
            same = sum(r.ours_insns == r.kernel_insns for r in group)
            line += (f"   kernel {kernel:12,.0f} insns/s   slowdown {slowdown:5.1f}x   "
                     f"processed counts equal {same}/{len(group)}")
        print(line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="best of N runs for bpfbuild (default 3)")
    ap.add_argument("--build", help="use the objects of this build directory for programs/")
    ap.add_argument("--baseline", metavar="REF", help="also time the verifier of git revision REF (e.g. main)")
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    ap.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        return _worker(args.worker, args.runs)
    kernel = _kernel_ok()
    with tempfile.TemporaryDirectory() as tmp:
        programs = _build_programs(args.build, Path(tmp))
        corpus = _build_corpus(Path(tmp))
        rows = _objects("programs", programs, args.runs, kernel)
        rows += _objects("corpus", corpus, args.runs, kernel)
        rows += _loop(max(1, args.runs // 3), kernel)
        if args.baseline:
            base = _baseline(args.baseline, [("programs", p) for p in programs] + [("corpus", p) for p in corpus],
                             args.runs, Path(tmp))
            for r in rows:
                if (r.workload, r.name) in base:
                    r.base_insns, r.base_usec = base[r.workload, r.name]
    _summary(rows, args.baseline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
