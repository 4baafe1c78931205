"""The long fuzz run (issue 15): N inputs across every command that reads a file, in-process.

    PYTHONPATH=. python3 benchmarks/fuzz.py [N] [--seed S]

Inputs alternate between garbage (random bytes, text, an ELF magic on nothing, empty: every
command must exit non-zero) and real objects of programs/ with 1-3 mutations (any exit status,
never a traceback).  Each input is run by one command (round robin over FILE_COMMANDS) under a
10 s alarm.  Prints the counts: tracebacks, hangs (> 10 s), exit 0 on garbage, and per command;
the first few failures are printed in full.  Exit status 1 if any count is non-zero.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.harness import FILE_COMMANDS, Outcome, build_objects, file_argv, garbage, mutate, run_cli  # noqa: E402

HANG_SECONDS = 10


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("count", type=int, nargs="?", default=100_000)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="bpfbuild-fuzz-"))
    objects = build_objects(tmp)
    names = sorted(objects)
    commands = sorted(FILE_COMMANDS)
    signal.signal(signal.SIGALRM, _alarm)
    counts: Counter[str] = Counter()
    per_command: Counter[tuple[str, str]] = Counter()
    shown = 0
    start = time.monotonic()
    for i in range(args.count):
        command = commands[i % len(commands)]
        is_garbage = i % 2 == 0
        if is_garbage:
            data = garbage(rng)
        else:
            data = objects[names[rng.randrange(len(names))]]
            for _ in range(rng.randint(1, 3)):
                data = mutate(data, rng)
        path = tmp / "input.bpf.o"
        path.write_bytes(data)
        argv = file_argv(command, path, tmp / "out")
        if command == "run":
            argv += ["--budget", "100000"]
        signal.alarm(HANG_SECONDS)
        try:
            out = run_cli(argv)
        except _Hang:
            out = Outcome("hang", -1, f"> {HANG_SECONDS} s")
        finally:
            signal.alarm(0)
        kind = out.kind
        if kind == "traceback" and "_Hang" in out.detail:
            kind = "hang"
        if kind == "ok" and is_garbage:
            kind = "exit0-on-garbage"
        counts[kind] += 1
        per_command[(command, kind)] += 1
        if kind in ("traceback", "hang", "exit0-on-garbage") and shown < 5:
            shown += 1
            keep = tmp / f"failure{shown}.bpf.o"
            keep.write_bytes(data)
            print(f"--- {kind}: bpfbuild {' '.join(argv)} (input kept as {keep})\n{out.detail}", file=sys.stderr)
        if (i + 1) % 5000 == 0:
            print(f"{i + 1} inputs, {time.monotonic() - start:.0f} s: {dict(counts)}", flush=True)
    elapsed = time.monotonic() - start
    print(f"inputs: {args.count} in {elapsed:.0f} s ({args.count / elapsed:.0f}/s), seed {args.seed}")
    print(f"tracebacks: {counts['traceback']}  hangs > {HANG_SECONDS} s: {counts['hang']}  "
          f"exit 0 on garbage: {counts['exit0-on-garbage']}  clean errors: {counts['error']}  ok: {counts['ok']}")
    for command in commands:
        row = {k: per_command[(command, k)] for k in ("error", "ok", "traceback", "hang", "exit0-on-garbage")}
        print(f"  {command:8} {row}")
    return 1 if counts["traceback"] or counts["hang"] or counts["exit0-on-garbage"] else 0


if __name__ == "__main__":
    sys.exit(main())
