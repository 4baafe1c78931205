"""How fast is bpfbuild's verifier, against the kernel's own verification time in the same run?

Workloads (each verified by bpfbuild and, when bpf() is permitted, loaded into the kernel with
log level 4, whose "verification time N usec" line is the baseline):
  programs   every program of programs/ (built by doit in a temporary copy of the project)
  corpus     every program of tests/verifier/corpus (clang -target bpf -g -O2)
  loop       a bounded loop of 20,000 iterations as bare bytecode (~200,000 processed insns)
For each workload it prints processed instructions per second for bpfbuild and for the kernel
and the slowdown (kernel rate / ours).  First target: within 50x on programs/ and the corpus.
Processed counts are compared too: they are equal when the exploration matches the kernel's.

    python benchmarks/verifier.py [--runs N] [--build DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

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


def _summary(rows: list[Row]) -> None:
    print(f"{'workload':9} {'program':48} {'processed':>17} {'ours usec':>10} {'kernel usec':>11}")
    for r in rows:
        processed = f"{r.ours_insns}/{r.kernel_insns if r.kernel_insns is not None else '-'}"
        print(f"{r.workload:9} {r.name[:48]:48} {processed:>17} {r.ours_usec:10.0f} "
              f"{r.kernel_usec if r.kernel_usec is not None else '-':>11}")
    print()
    for workload in dict.fromkeys(r.workload for r in rows):
        group = [r for r in rows if r.workload == workload]
        insns = sum(r.ours_insns for r in group)
        usec = sum(r.ours_usec for r in group)
        ours = insns / usec * 1e6 if usec else 0.0
        line = f"{workload:9} bpfbuild {ours:12,.0f} insns/s"
        timed = [r for r in group if r.kernel_usec and r.kernel_insns]
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
    args = ap.parse_args(argv)
    kernel = _kernel_ok()
    with tempfile.TemporaryDirectory() as tmp:
        rows = _objects("programs", _build_programs(args.build, Path(tmp)), args.runs, kernel)
        rows += _objects("corpus", _build_corpus(Path(tmp)), args.runs, kernel)
        rows += _loop(max(1, args.runs // 3), kernel)
    _summary(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
