"""How fast does the emulator execute eBPF, against the kernel's JIT and the previous emulator?

Workloads, each run in this tree's emulator, in the previous emulator (the tree at
BASELINE, extracted with ``git archive`` into a temporary directory and run in a
subprocess, alternating with this tree's measurements so both see the same machine load),
and, when bpf() is permitted, in the kernel with BPF_PROG_TEST_RUN as an XDP program:
  loop      one run of a loop of 100,000 iterations (ALU, a stack store and load, a branch:
            912,505 executed instructions); the kernel's verifier accepts it as is
  short     an 11-instruction program run many times: Machine.run (an XDP context per run),
            a prepared run (Machine.prepare: context set up once, restored per call) and
            run_bytecode (fresh memory per call)
both on the Python translation and on the C backend (Machine(backend="c"); its rows compare
with the previous emulator's Python figures, the only backend it had).
Prints per-call times and instructions per second, the ratio to the kernel's JIT and the
ratio to the previous emulator (machines are shared and noisy: the same-run ratios are the
figures to compare), and checks that both emulators return the same r0 on every workload.
Targets (issue 14): short <= 2 us per call, loop >= 3e7 instructions/s in pure Python and
>= 1e8 with the C backend.

    python benchmarks/emulator.py [--runs N] [--rounds N] [--baseline REV | --no-baseline]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__" and "--measure" not in sys.argv:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bpfbuild.isa import assemble, encode  # noqa: E402

ITERATIONS = 100_000
LOOP = f"""
r0 = 0
r1 = 0
r2 = 0
loop:
r2 = r1
r2 &= 7
*(u64 *)(r10 - 8) = r2
r3 = *(u64 *)(r10 - 8)
r0 ^= r3
r0 += r1
if r3 != 5 goto next
r0 ^= 0x55
next:
r1 += 1
if r1 < {ITERATIONS} goto loop
r0 &= 0xffff
exit
"""
SHORT = """
r0 = 17
r1 = 0x12345678
r2 = r1
r2 >>= 7
r1 ^= r2
r1 *= 31
w1 += 1
if w1 > 1000 goto big
r0 += 1
big:
r0 ^= r1
r0 &= 0xff
exit
"""
PACKET = bytes(64)


# --- the kernel baseline (raw bpf(2), like tests/vm/conftest.py) -------------------------

class Kernel:
    SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        self.fds: list[int] = []

    def _bpf(self, cmd: int, attr: ctypes.Array[ctypes.c_char]) -> int:
        ret = self.libc.syscall(self.SYS_BPF, cmd, attr, len(attr))
        if ret < 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        return int(ret)

    def load_xdp(self, code: bytes) -> int:
        insns = ctypes.create_string_buffer(code, len(code))
        lic = ctypes.create_string_buffer(b"GPL")
        attr = ctypes.create_string_buffer(144)
        struct.pack_into("<IIQQ", attr, 0, 6, len(code) // 8, ctypes.addressof(insns), ctypes.addressof(lic))
        fd = self._bpf(5, attr)
        self.fds.append(fd)
        return fd

    def mean_ns(self, fd: int, repeat: int) -> float:
        din = ctypes.create_string_buffer(PACKET, len(PACKET))
        dout = ctypes.create_string_buffer(len(PACKET) + 4096)
        attr = ctypes.create_string_buffer(144)
        struct.pack_into("<IIIIQQII", attr, 0, fd, 0, len(PACKET), len(dout), ctypes.addressof(din),
                         ctypes.addressof(dout), repeat, 0)
        self._bpf(10, attr)
        return float(struct.unpack_from("<I", attr, 36)[0])

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)


def kernel_or_reason() -> tuple[Kernel | None, str]:
    if Kernel.SYS_BPF is None:
        return None, f"no bpf() syscall number for {platform.machine()}"
    k = Kernel()
    try:
        k.load_xdp(bytes.fromhex("b700000002000000" "9500000000000000"))
    except OSError as exc:
        return None, f"bpf() not permitted ({exc.strerror}); run as root for the kernel baseline"
    return k, ""


# --- measurements ----------------------------------------------------------------------------

#: the emulator before issue 14's work (block inlining, prepared runs)
BASELINE = "7f298df799127d422c7fc2fabbc8ecb14053216a"
ROOT = Path(__file__).resolve().parents[1]


def measure(runs: int) -> dict[str, float]:
    """This process's emulator (whatever ``bpfbuild`` imports): best of ``runs``."""
    from bpfbuild.abi.progtypes import ProgType
    from bpfbuild.isa import assemble, encode
    from bpfbuild.vm import Machine, Session, XdpContext, run_bytecode

    machine = Machine(Session(), budget=10_000_000)
    loop_prog = machine.load(assemble(LOOP), name="loop", prog_type=ProgType.XDP)
    short_prog = machine.load(assemble(SHORT), name="short", prog_type=ProgType.XDP)
    short_code = encode(assemble(SHORT))
    ctx = XdpContext(PACKET)
    out: dict[str, float] = {}
    first = machine.run(loop_prog, ctx)
    out["loop_steps"], out["loop_r0"] = first.steps, first.retval
    first = machine.run(short_prog, ctx)
    out["short_steps"], out["short_r0"] = first.steps, first.retval
    out["bytecode_r0"] = run_bytecode(short_code)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        machine.run(loop_prog, ctx)
        times.append(time.perf_counter() - t0)
    out["loop_s"] = min(times)
    n = 20_000
    prepared = machine.prepare(short_prog, ctx) if hasattr(machine, "prepare") else None
    if prepared is not None:
        out["prepared_r0"] = prepared()
    best_m = best_p = best_b = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(n):
            machine.run(short_prog, ctx)
        best_m = min(best_m, (time.perf_counter() - t0) / n)
        if prepared is not None:
            t0 = time.perf_counter()
            for _ in range(n):
                prepared()
            best_p = min(best_p, (time.perf_counter() - t0) / n)
        t0 = time.perf_counter()
        for _ in range(n // 4):
            run_bytecode(short_code)
        best_b = min(best_b, (time.perf_counter() - t0) / (n // 4))
    out["run_s"], out["bytecode_s"] = best_m, best_b
    if prepared is not None:
        out["prepared_s"] = best_p
    if hasattr(machine, "coverage"):   # what recording coverage costs (the plain translation has no counters)
        counting = Machine(Session(), budget=10_000_000)
        counting.coverage = True
        cov_loop = counting.load(assemble(LOOP), name="loop", prog_type=ProgType.XDP)
        best_c = float("inf")
        for _ in range(runs):
            t0 = time.perf_counter()
            counting.run(cov_loop, ctx)
            best_c = min(best_c, time.perf_counter() - t0)
        out["cov_loop_s"] = best_c
    try:
        native = Machine(Session(), budget=10_000_000, backend="c")
    except TypeError:   # an emulator without the C backend
        return out
    c_loop = native.load(assemble(LOOP), name="loop", prog_type=ProgType.XDP)
    c_short = native.load(assemble(SHORT), name="short", prog_type=ProgType.XDP)
    if c_loop.backend != "c":
        return out
    first = native.run(c_loop, ctx)
    out["c_loop_r0"], out["c_loop_steps"] = first.retval, first.steps
    c_prepared = native.prepare(c_short, ctx)
    out["c_short_r0"] = c_prepared()
    best_l = best_s = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        native.run(c_loop, ctx)
        best_l = min(best_l, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(n // 4):
            c_prepared()
        best_s = min(best_s, (time.perf_counter() - t0) / (n // 4))
    out["c_loop_s"], out["c_prepared_s"] = best_l, best_s
    return out


def measure_in(tree: Path | None, runs: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree or ROOT))
    proc = subprocess.run([sys.executable, __file__, "--measure", "--runs", str(runs)], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"benchmarks/emulator.py: measuring {tree or ROOT} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout))


def baseline_tree(rev: str, into: Path) -> Path | str:
    """The tree's ``bpfbuild`` package at ``rev`` under ``into`` (or why not)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "bpfbuild"], capture_output=True, check=False)
    if archive.returncode:
        return f"git archive {rev} failed: {archive.stderr.decode(errors='replace').strip()}"
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def merge_best(acc: dict[str, float], new: dict[str, float]) -> dict[str, float]:
    for key, value in new.items():
        acc[key] = min(acc[key], value) if key.endswith("_s") and key in acc else value
    return acc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each measurement per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of current / baseline")
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the previous emulator")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.runs)))
        return 0

    cur: dict[str, float] = {}
    base: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tree = None if args.no_baseline else baseline_tree(args.baseline, Path(tmp))
        if isinstance(tree, str):
            print(f"previous emulator skipped: {tree}")
            tree = None
        for _ in range(args.rounds):
            merge_best(cur, measure_in(None, args.runs))
            if tree is not None:
                merge_best(base, measure_in(tree, args.runs))

    kernel, reason = kernel_or_reason()
    k_loop = k_short = None
    if kernel is not None:
        try:
            loop_fd, short_fd = kernel.load_xdp(encode(assemble(LOOP))), kernel.load_xdp(encode(assemble(SHORT)))
            k_loop = statistics.median(kernel.mean_ns(loop_fd, 20) for _ in range(5)) * 1e-9
            k_short = statistics.median(kernel.mean_ns(short_fd, 1_000_000) for _ in range(5)) * 1e-9
        finally:
            kernel.close()

    loop_steps, short_steps = cur["loop_steps"], cur["short_steps"]

    def row(label: str, key: str, steps: float, kernel_s: float | None) -> None:
        t = cur[key]
        text = f"{label:<28} {t * 1e6:>12,.2f} us  {steps / t / 1e6:>9.2f} M insns/s"
        if kernel_s:
            ratio = t / kernel_s
            text += (f"   vs kernel JIT {ratio:>8,.0f}x slower" if ratio >= 1
                     else f"   vs kernel JIT {1 / ratio:>8,.2f}x faster")
        if key in base:
            text += f"   vs previous emulator {base[key] / t:>5.2f}x faster ({base[key] * 1e6:,.2f} us)"
        print(text)

    print(f"loop: {loop_steps:,.0f} insns/run; short: {short_steps:.0f} insns/run")
    row("loop, Machine.run", "loop_s", loop_steps, k_loop)
    row("short, Machine.run", "run_s", short_steps, k_short)
    if "prepared_s" in cur:
        row("short, Machine.prepare()()", "prepared_s", short_steps, k_short)
    row("short, run_bytecode", "bytecode_s", short_steps, k_short)
    if "cov_loop_s" in cur:
        print(f"{'loop, coverage counting':<28} {cur['cov_loop_s'] * 1e6:>12,.2f} us  "
              f"{loop_steps / cur['cov_loop_s'] / 1e6:>9.2f} M insns/s   "
              f"{cur['cov_loop_s'] / cur['loop_s']:.2f}x the plain translation's time")
    if "c_loop_s" in cur:
        base.setdefault("c_loop_s", base.get("loop_s", 0.0))
        base.setdefault("c_prepared_s", base.get("run_s", 0.0))
        row("loop, C backend", "c_loop_s", loop_steps, k_loop)
        row("short, C backend, prepared", "c_prepared_s", short_steps, k_short)
    if k_loop and k_short:
        print(f"kernel JIT (BPF_PROG_TEST_RUN): loop {loop_steps / k_loop / 1e6:,.0f} M insns/s, "
              f"short {k_short * 1e9:.0f} ns/run (test_run's per-run overhead included)")
    else:
        print(f"kernel baseline skipped: {reason}")
    results = [k for k in cur if k.endswith("_r0") and not k.startswith("c_")]
    agree = all(cur[k] == cur["short_r0"] for k in ("prepared_r0", "bytecode_r0", "c_short_r0") if k in cur)
    agree = agree and cur.get("c_loop_r0", cur["loop_r0"]) == cur["loop_r0"] \
        and cur.get("c_loop_steps", loop_steps) == loop_steps
    if base:
        agree = agree and all(cur[k] == base[k] for k in results if k in base)
    print(f"results (r0): loop {cur['loop_r0']:#x}, short {cur['short_r0']:#x}; "
          + ("every emulator path and the previous emulator agree" if agree else "MISMATCH between emulator paths"))
    print("backends: python" + (", c (agreeing on r0 and executed instructions)" if "c_loop_s" in cur
                                 else " (the C backend is unavailable: no C compiler)"))
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
