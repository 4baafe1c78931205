"""How fast is ``isa.decode``, against bare unpacking of the same bytes in the same run?

Decoding checks every reserved field and builds one ``Instruction`` per slot; the baseline is
``struct.iter_unpack("<BBhi", ...)`` over the same bytes (what any decoder must at least do).
It prints instructions per second for both and the ratio.  Target: 100,000 instructions
decode in well under a second (it was a timed unit test; timing belongs here).

    python benchmarks/isa_decode.py [--insns N] [--runs N]
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bpfbuild.isa import assemble, decode, encode

PROGRAM = """
    r6 = 0 ll
    r3 = *(u32 *)(r6 + 0)
    if r3 s> 10 goto +1
    r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)
    r0 = be16 r0
    call 6
    exit
"""


def _best(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--insns", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    program = assemble(PROGRAM)
    raw = encode(program) * (args.insns // len(program) + 1)
    slots = len(raw) // 8
    decoded = decode(raw)
    assert encode(decoded) == raw
    ours = _best(lambda: decode(raw), args.runs)
    bare = _best(lambda: list(struct.iter_unpack("<BBhi", raw)), args.runs)
    print(f"decode       {slots / ours:12,.0f} slots/s  ({ours:.3f} s for {slots:,} slots)")
    print(f"bare unpack  {slots / bare:12,.0f} slots/s  ({bare:.3f} s)")
    print(f"ratio        {ours / bare:12.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
