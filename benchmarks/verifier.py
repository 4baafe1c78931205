"""How fast is bpfbuild's verifier next to the kernel's, on programs/ and the verifier corpus?

For every program of every object (build/*.bpf.o and tests/verifier/corpus/*.bpf.c compiled into
a temporary dir), runs bpfbuild's verifier several times (median) and, as root, the kernel's
(BPF_PROG_LOAD with log level 4, whose "verification time N usec" is the baseline) in the same
run, then prints processed instructions per second for both and the ratio.  First target: within
50x of the kernel.

    python benchmarks/verifier.py [--runs N]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def objects(tmp: str) -> list[str]:
    objs = sorted(glob.glob(str(REPO / "build" / "*.bpf.o")))
    for src in sorted((REPO / "tests" / "verifier" / "corpus").glob("*.bpf.c")):
        out = os.path.join(tmp, src.name[:-2] + ".o")
        res = subprocess.run(["clang", "-target", "bpf", f"-I/usr/include/{os.uname().machine}-linux-gnu",
                              "-g", "-O2", "-c", str(src), "-o", out], capture_output=True)
        if res.returncode == 0:
            objs.append(out)
    return objs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.obj.loader import load_object_file
    from bpfbuild.verifier import verify

    try:
        from bpfbuild.kernel import availability, verdict
        reason = availability()
    except ImportError as exc:
        reason = str(exc)
    ours_insns = ours_time = kern_insns = kern_time = 0.0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for obj in objects(tmp):
            try:
                spec = load_object_file(obj)
            except BpfBuildError:
                continue
            for prog in spec.programs:
                times = []
                report = None
                for _ in range(args.runs):
                    start = time.perf_counter()
                    report = verify(spec, prog)
                    times.append(time.perf_counter() - start)
                t = statistics.median(times)
                assert report is not None
                ours_insns += report.processed_insns
                ours_time += t
                k_us = None
                if reason is None:
                    kv = verdict(obj, prog.name, log_level=4)
                    if kv.processed_insns and kv.verification_time_usec:
                        k_us = kv.verification_time_usec
                        kern_insns += kv.processed_insns
                        kern_time += k_us / 1e6
                rows.append((Path(obj).name, prog.name, report.processed_insns, t * 1e6, k_us))
    for obj, name, n, us, k in rows:
        kern = f"{k:8d} us" if k is not None else "       -   "
        print(f"{obj:40s} {name:26s} {n:6d} insns  ours {us:9.0f} us  kernel {kern}")
    print(f"\n{len(rows)} programs, median of {args.runs} runs each")
    ours_rate = ours_insns / ours_time if ours_time else 0.0
    print(f"bpfbuild verifier: {ours_rate:,.0f} processed insns/s")
    if reason is None and kern_time:
        kern_rate = kern_insns / kern_time
        print(f"kernel verifier:   {kern_rate:,.0f} processed insns/s")
        print(f"kernel / bpfbuild = {kern_rate / ours_rate:.1f}x (target <= 50x)")
    else:
        print(f"kernel baseline skipped: {reason or 'no verification times'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
