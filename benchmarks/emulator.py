"""How fast does the emulator execute eBPF, against the kernel on the same bytecode?

Two workloads, each run in the emulator and (when bpf() is permitted) in the kernel with
BPF_PROG_TEST_RUN as an XDP program, in the same run:
  loop    one run of a loop of 100,000 iterations (ALU, a stack store and load, a branch:
          912,505 executed instructions); the kernel's verifier accepts it as is
  short   a 12-instruction program run many times: through run_bytecode (fresh memory per
          call, cached translation) and through Machine.run (an XDP context per run)
Prints executed instructions per second for each, and the kernel/emulator ratio (the
kernel number is its JIT's; machines are shared and noisy, so the same-run ratio is the
figure to compare).  Target: >= 5 million instructions/second on the loop.

    python benchmarks/emulator.py [--runs N]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import statistics
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble, encode
from bpfbuild.vm import Machine, Session, XdpContext, run_bytecode

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

def best(samples: list[float]) -> float:
    return min(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="repetitions of each measurement (best kept)")
    args = parser.parse_args()

    loop_insns = assemble(LOOP)
    short_insns = assemble(SHORT)
    loop_code, short_code = encode(loop_insns), encode(short_insns)

    machine = Machine(Session(), budget=10_000_000)
    loop_prog = machine.load(loop_insns, name="loop", prog_type=ProgType.XDP)
    short_prog = machine.load(short_insns, name="short", prog_type=ProgType.XDP)
    loop_steps = machine.run(loop_prog, XdpContext(PACKET)).steps
    short_steps = machine.run(short_prog, XdpContext(PACKET)).steps

    # loop: one run executes ~1M instructions
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        machine.run(loop_prog, XdpContext(PACKET))
        times.append(time.perf_counter() - t0)
    loop_rate = loop_steps / best(times)

    # short: many runs
    n = 20_000
    times_bc, times_m = [], []
    ctx = XdpContext(PACKET)
    for _ in range(args.runs):
        t0 = time.perf_counter()
        for _ in range(n):
            run_bytecode(short_code)
        times_bc.append((time.perf_counter() - t0) / n)
        t0 = time.perf_counter()
        for _ in range(n):
            machine.run(short_prog, ctx)
        times_m.append((time.perf_counter() - t0) / n)
    per_bc, per_m = best(times_bc), best(times_m)

    print(f"loop   {loop_steps:,} insns/run      emulator {loop_rate / 1e6:8.2f} M insns/s "
          f"({best(times) * 1e3:.1f} ms/run)")
    print(f"short  {short_steps} insns/run  run_bytecode {short_steps / per_bc / 1e6:8.2f} M insns/s "
          f"({per_bc * 1e6:.1f} us/run)")
    print(f"short  {short_steps} insns/run   Machine.run {short_steps / per_m / 1e6:8.2f} M insns/s "
          f"({per_m * 1e6:.1f} us/run)")

    kernel, reason = kernel_or_reason()
    if kernel is None:
        print(f"kernel baseline skipped: {reason}")
        return 0
    try:
        loop_fd, short_fd = kernel.load_xdp(loop_code), kernel.load_xdp(short_code)
        k_loop = statistics.median(kernel.mean_ns(loop_fd, 20) for _ in range(args.runs))
        k_short = statistics.median(kernel.mean_ns(short_fd, 1_000_000) for _ in range(args.runs))
    finally:
        kernel.close()
    k_loop_rate = loop_steps / (k_loop * 1e-9) if k_loop else float("inf")
    k_short_rate = short_steps / (k_short * 1e-9) if k_short else float("inf")
    print(f"kernel loop   {k_loop_rate / 1e6:10.1f} M insns/s ({k_loop / 1e3:.1f} us/run)   "
          f"kernel/emulator = {k_loop_rate / loop_rate:,.0f}x")
    print(f"kernel short  {k_short_rate / 1e6:10.1f} M insns/s ({k_short:.0f} ns/run, test_run's per-run "
          f"overhead included)   kernel/run_bytecode = {per_bc / (k_short * 1e-9) if k_short else 0:,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
