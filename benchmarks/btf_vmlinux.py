"""How fast does bpfbuild.btf read the running kernel's BTF, against same-run baselines?

Stages, each timed from nothing (a fresh Spec every run):
  read      the plain ``bytes`` read of the file (baseline for the stages below)
  index     Spec.from_bytes: header checks and one pass finding every record
  resolve   index + decode every type and resolve it (strip typedefs and qualifiers)
  header    index + dump_c_header (a vmlinux.h)
  bpftool   ``bpftool btf dump file ... format c`` writing to /dev/null, when installed
            (a subprocess: its time includes process start-up)
Prints the median of several runs for each, and ratios: stage / read, and for the header,
ours / bpftool.  Machines are shared and noisy: the same-run ratios are the figures to compare.

    python benchmarks/btf_vmlinux.py [--runs N] [--btf PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bpfbuild.btf import Spec, dump_c_header


def median_time(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--btf", default="/sys/kernel/btf/vmlinux")
    args = parser.parse_args()
    path = Path(args.btf)
    if not path.exists():
        print(f"{path}: absent (kernel without CONFIG_DEBUG_INFO_BTF?)", file=sys.stderr)
        return 1

    def read() -> bytes:
        return path.read_bytes()

    def index() -> Spec:
        return Spec.from_bytes(read())

    def resolve() -> None:
        spec = index()
        for type_id in spec:
            spec.resolve(type_id)

    def header() -> str:
        return dump_c_header(index(), source=str(path))

    data = read()
    spec = Spec.from_bytes(data)
    print(f"{path}: {len(data):,} bytes, {len(spec) - 1:,} types; {args.runs} runs, medians")

    results = {"read": median_time(read, args.runs), "index": median_time(index, args.runs),
               "resolve": median_time(resolve, args.runs), "header": median_time(header, args.runs)}
    bpftool = shutil.which("bpftool")
    if bpftool:
        argv = [bpftool, "btf", "dump", "file", str(path), "format", "c"]
        results["bpftool"] = median_time(
            lambda: subprocess.run(argv, check=True, stdout=subprocess.DEVNULL), args.runs)

    base = results["read"]
    for stage, seconds in results.items():
        print(f"{stage:>8}: {seconds * 1e3:9.1f} ms  {seconds / base:8.1f}x read")
    if "bpftool" in results:
        print(f"header / bpftool format c: {results['header'] / results['bpftool']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
