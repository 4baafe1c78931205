"""The long fuzz run (issue 15): N inputs across every command that reads a file, in-process.

    PYTHONPATH=. python3 benchmarks/fuzz.py [N] [--seed S] [--out DIR] [--only SLOT,...]

Every input goes to one *slot*, round robin:

* the object readers (show, dump, maps, verify, skel C/Python, btf raw/C, run) and ``coverage``
  on a fuzzed object;
* text inputs beside a valid object: the test spec of ``coverage`` (cases and ``[[property]]``
  blocks), a saved probe for ``probe --from`` and for ``verify --kernel FILE`` (target files);
* the state files the doit tasks read back (``.cmd`` records, ``.toolchain.json``, the results
  and lcov records of the report, doit's own DB);
* CLI argv of every reading command (tokens, paths to garbage, FIFOs, directories);
* the kernel commands (``load`` / ``prog show pinned`` / ``unload`` of mutated objects, each in a
  forked child so that a crash inside libbpf shows as a signal), when running as root.

Inputs alternate between garbage (every command must exit non-zero: ``exit0-on-garbage``
otherwise) and mutated real inputs (any exit status, never a traceback).  Each input runs under a
10 s limit.  The input of number ``i`` depends only on ``(seed, i)``: the run is done in chunks
of 1,000 whose counts are saved in ``--out`` (default ``build/fuzz-S``); running the same command
again resumes after the last finished chunk, and the totals are printed from all chunks.
Several processes may share one ``--out`` (``--start``, ``--reverse``): each chunk is claimed by
one (``chunk-N.claim``; delete the claims a killed process left to have its chunks done again).
Exit status 1 if any traceback, crash, hang or exit 0 on garbage was found.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.harness import (FILE_COMMANDS, PROGRAMS, TEXT_COMMANDS, Outcome, argv_input,  # noqa: E402
                                build_objects, file_argv, garbage, kernel_cycle, mutate, probe_input, run_cli,
                                run_reader, spec_input, state_input, state_readers, text_argv)

HANG_SECONDS = 10
CHUNK = int(os.environ.get("FUZZ_CHUNK", "1000"))
BAD = ("traceback", "crash", "hang", "exit0-on-garbage")


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang()


class Fuzzer:
    def __init__(self, seed: int, tmp: Path, only: set[str] | None) -> None:
        self.seed = seed
        self.tmp = tmp
        self.objects = build_objects(tmp)
        if "hello" not in self.objects:
            raise SystemExit("benchmarks/fuzz.py: programs/hello.bpf.c did not compile")
        self.names = sorted(self.objects)
        self.obj = tmp / "hello.bpf.o"
        self.obj.write_bytes(self.objects["hello"])
        self.spec = tmp / "hello.test.toml"
        self.spec.write_text((PROGRAMS / "hello.test.toml").read_text())
        self.specs = [p.read_text() for p in sorted(PROGRAMS.glob("*.test.toml"))]
        self.probe = self._probe()
        self.readers = state_readers()
        for mod in ("bpfbuild.cli.coverage", "bpfbuild.vm", "bpfbuild.vm.specrun", "bpfbuild.verifier",
                    "bpfbuild.skel.generate", "bpfbuild.kernel.probe"):
            importlib.import_module(mod)   # not timed: a cold import under load is no hang of the input
        slots = [f"obj:{c}" for c in sorted(FILE_COMMANDS)] + [f"text:{c}" for c in sorted(TEXT_COMMANDS)]
        slots += [f"state:{c}" for c in sorted(self.readers)] + ["argv"]
        if os.geteuid() == 0 and Path("/sys/fs/bpf").is_dir():
            slots.append("kernel")
        self.slots = [s for s in slots if only is None or s in only or s.split(":")[-1] in only]
        self.pin_dir = Path(f"/sys/fs/bpf/bpfbuild-fuzz-{os.getpid()}")
        self.fifo = tmp / "fifo"
        os.mkfifo(self.fifo)
        (tmp / "junk.o").write_bytes(b"\x7fELF junk")

    def _probe(self) -> dict:
        """The running kernel's probe as the base of mutated probe files (a small one without root)."""
        from bpfbuild.errors import BpfBuildError
        from bpfbuild.kernel.probe import probe_kernel

        try:
            return probe_kernel().to_json()
        except BpfBuildError:
            return {"kernel": {"release": "6.1.0", "version": "#1", "machine": "x86_64"}, "isa": 3,
                    "prog_types": {"XDP": {"ok": True}}, "map_types": {"HASH": {"ok": True}},
                    "helpers": {"XDP": ["map_lookup_elem"]}, "kfuncs": [], "limits": {}, "sysctl": {}}

    def one(self, i: int, kept: bytes | None = None) -> tuple[str, str, list[str]]:
        """Run input ``i``: (slot, outcome kind, argv shown for a failure).  ``kept``: the bytes a
        failure kept (the compiled objects, hence the mutations, differ between checkouts)."""
        rng = random.Random(f"{self.seed}-{i}")
        slot = self.slots[i % len(self.slots)]
        is_garbage = (i // len(self.slots)) % 2 == 0
        path = self.tmp / "input"
        out_path = self.tmp / "out"
        kind_of, _, name = slot.partition(":")
        if kind_of == "obj" or (kind_of == "text" and TEXT_COMMANDS[name][1] == "object") or kind_of == "kernel":
            if is_garbage:
                data = garbage(rng)
            else:
                data = self.objects[self.names[rng.randrange(len(self.names))]]
                for _ in range(rng.randint(1, 3)):
                    data = mutate(data, rng)
        elif kind_of == "text":
            if is_garbage:
                data = garbage(rng)
            elif TEXT_COMMANDS[name][1] == "spec":
                data = spec_input(rng, self.specs).encode("utf-8", "replace")
            else:
                data = probe_input(rng, self.probe).encode("utf-8", "replace")
        elif kind_of == "state":
            data = state_input(rng)
        else:
            data = b""
        if kept is not None:
            data = kept
        path = path.with_suffix({"spec": ".test.toml", "probe": ".json"}.get(
            TEXT_COMMANDS[name][1] if kind_of == "text" else "", ".bpf.o"))
        path.write_bytes(data)
        if kind_of == "kernel":
            steps = kernel_cycle(path, self.pin_dir, HANG_SECONDS)
            worst = next((o for _, o in steps if o.kind in BAD), None) or steps[0][1]
            kind = worst.kind
            if kind == "ok" and is_garbage:
                kind = "exit0-on-garbage"
            argv = [f"{s}: {o.kind} {o.detail[-300:]}" for s, o in steps]
            return slot, kind, argv
        if kind_of == "obj":
            argv = file_argv(name, path, out_path)
            if name == "run":
                argv += ["--budget", "100000"]
        elif kind_of == "text":
            argv = text_argv(name, path, out_path, self.obj, self.spec)
        elif kind_of == "argv":
            _, argv = argv_input(rng)
            paths = {"FILE": str(self.obj), "GARBAGE": str(self.tmp / "junk.o"), "MISSING": str(self.tmp / "absent"),
                     "DIR": str(self.tmp), "FIFO": str(self.fifo), "OUT": str(out_path), "SPEC": str(self.spec)}
            argv = [paths.get(t, t) for t in argv]
        else:
            argv = [name, str(path)]
        signal.alarm(HANG_SECONDS)
        try:
            if kind_of == "state":
                out = run_reader(self.readers[name], path, self.tmp)
            else:
                out = run_cli(argv)
        except _Hang:
            out = Outcome("hang", -1, f"> {HANG_SECONDS} s")
        finally:
            signal.alarm(0)
        kind = out.kind
        if kind == "traceback" and "_Hang" in out.detail:
            kind = "hang"
        if kind == "ok" and is_garbage and kind_of in ("obj", "text"):
            kind = "exit0-on-garbage"
        if kind in BAD:
            keep = self.tmp / f"failure-{i}{path.suffix}"
            keep.write_bytes(data)
            argv = argv + [f"(input kept as {keep})", out.detail[-1500:]]
        return slot, kind, argv

    def cleanup(self) -> None:
        if self.pin_dir.exists():
            for p in self.pin_dir.iterdir():
                p.unlink()
            self.pin_dir.rmdir()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("count", type=int, nargs="?", default=100_000)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--out", type=Path, default=None, help="chunk results (default build/fuzz-SEED)")
    ap.add_argument("--only", default=None, help="comma-separated slots (show, coverage-spec, state-cmd, argv, kernel, ...)")
    ap.add_argument("--reverse", action="store_true",
                    help="do the chunks from the last one down (a second process on the same --out shares the work)")
    ap.add_argument("--start", type=int, default=0, help="begin at this input (a multiple of the chunk size)")
    ap.add_argument("--recheck", action="store_true",
                    help="run again only the inputs the chunks recorded as failures (after a fix) and print them")
    args = ap.parse_args()
    out_dir = (args.out or Path("build") / f"fuzz-{args.seed}").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bpfbuild-fuzz-"))
    os.chdir(tmp)   # coverage and skeletons write relative to the working directory
    fuzzer = Fuzzer(args.seed, tmp, set(args.only.split(",")) if args.only else None)
    signal.signal(signal.SIGALRM, _alarm)
    if "kernel" in fuzzer.slots:
        fuzzer.pin_dir.mkdir(exist_ok=True)
    if args.recheck:
        return recheck(fuzzer, out_dir)
    starts = [s for s in range(0, args.count, CHUNK) if s >= args.start]
    try:
        for start in reversed(starts) if args.reverse else starts:
            chunk = out_dir.resolve() / f"chunk-{start:07d}.json"
            if chunk.exists():
                continue
            try:   # several processes share one run: each chunk is claimed by one of them
                os.close(os.open(chunk.with_suffix(".claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                continue
            counts: Counter[str] = Counter()
            failures = []
            t0 = time.monotonic()
            for i in range(start, min(start + CHUNK, args.count)):
                slot, kind, argv = fuzzer.one(i)
                counts[f"{slot}|{kind}"] += 1
                if kind in BAD:
                    failures.append({"input": i, "slot": slot, "kind": kind, "argv": argv})
                    print(f"--- input {i} {slot}: {kind}\n" + "\n".join(map(str, argv)), file=sys.stderr, flush=True)
            chunk.with_suffix(".part").write_text(json.dumps({"seed": args.seed, "slots": fuzzer.slots, "counts": counts,
                                         "failures": failures, "seconds": time.monotonic() - t0}))
            os.replace(chunk.with_suffix(".part"), chunk)
            chunk.with_suffix(".claim").unlink()
            print(f"chunk {start}: {time.monotonic() - t0:.0f} s, "
                  f"{sum(v for k, v in counts.items() if k.split('|')[1] in BAD)} bad", flush=True)
    finally:
        fuzzer.cleanup()
    return summary(out_dir)


def recheck(fuzzer: Fuzzer, out_dir: Path) -> int:
    """The recorded failures, run again with the current code: how many still fail."""
    signal.signal(signal.SIGALRM, _alarm)
    still = 0
    seen = 0
    for chunk in sorted(out_dir.glob("chunk-*.json")):
        data = json.loads(chunk.read_text())
        if data["slots"] != fuzzer.slots:
            raise SystemExit(f"{chunk}: recorded with other slots than this run's")
        for f in data["failures"]:
            seen += 1
            kept = next((a.split("(input kept as ", 1)[1].rstrip(")") for a in f["argv"]
                         if isinstance(a, str) and a.startswith("(input kept as ")), None)
            data = Path(kept).read_bytes() if kept and os.path.exists(kept) else None
            slot, kind, argv = fuzzer.one(f["input"], data)
            still += kind in BAD
            print(f"input {f['input']} {slot}: was {f['kind']}, now {kind}"
                  + ("" if data is not None else " (input regenerated: not kept)"))
    print(f"recheck: {seen} recorded failures, {still} still failing")
    fuzzer.cleanup()
    return 1 if still else 0


def summary(out_dir: Path) -> int:
    counts: Counter[str] = Counter()
    seconds = 0.0
    failures = []
    for chunk in sorted(out_dir.glob("chunk-*.json")):
        data = json.loads(chunk.read_text())
        counts.update(data["counts"])
        seconds += data["seconds"]
        failures += data["failures"]
    total = sum(counts.values())
    kinds: Counter[str] = Counter()
    per_slot: dict[str, Counter[str]] = {}
    for key, n in counts.items():
        slot, kind = key.split("|")
        kinds[kind] += n
        per_slot.setdefault(slot, Counter())[kind] += n
    print(f"inputs: {total} in {seconds:.0f} s ({total / max(seconds, 1e-9):.0f}/s), {out_dir}")
    print("  ".join(f"{k}: {kinds[k]}" for k in BAD) + f"  clean errors: {kinds['error']}  ok: {kinds['ok']}")
    for slot in sorted(per_slot):
        row = per_slot[slot]
        print(f"  {slot:22} {sum(row.values()):6}  " + "  ".join(f"{k} {row[k]}" for k in ("error", "ok", *BAD) if row[k]))
    for f in failures[:10]:
        print(f"  input {f['input']} {f['slot']}: {f['kind']}: {' '.join(map(str, f['argv']))[:400]}")
    return 1 if any(kinds[k] for k in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
