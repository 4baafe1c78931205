"""The kernel commands on mutated objects (a fixed small budget; benchmarks/fuzz.py runs thousands):
``load`` / ``prog show pinned`` / ``unload``, each in a forked child so that a crash inside libbpf
shows as a signal.  bpfbuild's reader must refuse what would crash libbpf before libbpf sees it;
whatever loads is shown and unloaded, and nothing stays pinned."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from .harness import garbage, kernel_cycle, mutate

pytestmark = pytest.mark.kernel

BUDGET = 8


@pytest.fixture
def fuzz_pins(requires_kernel):
    path = Path(f"/sys/fs/bpf/bpfbuild_fuzz_test_{os.getpid()}")
    path.mkdir(exist_ok=True)
    try:
        yield path
    finally:
        for p in path.iterdir():
            p.unlink()
        path.rmdir()


def test_load_show_unload_of_mutated_objects_never_crash_or_trace(real_objects, fuzz_pins, tmp_path):
    rng = random.Random(15)
    names = sorted(real_objects)
    for i in range(BUDGET):
        if i % 4 == 0:
            data = garbage(rng)
        else:
            data = real_objects[names[i % len(names)]]
            for _ in range(rng.randint(1, 2)):
                data = mutate(data, rng)
        path = tmp_path / f"m{i}.bpf.o"
        path.write_bytes(data)
        steps = kernel_cycle(path, fuzz_pins, timeout=60)
        for step, out in steps:
            assert out.kind in ("ok", "error"), (i, step, out)
            if out.kind == "error":
                assert out.detail and "\n" not in out.detail.strip(), (i, step, out.detail)
        if i % 4 == 0:
            assert steps[0][1].kind == "error", (i, "garbage loaded", steps)
        assert not any(fuzz_pins.iterdir()), (i, "left pinned")
    # whatever the mutations did, the unmutated object goes the whole way: load -> show -> unload
    path = tmp_path / "hello.bpf.o"
    path.write_bytes(real_objects["hello"])
    steps = kernel_cycle(path, fuzz_pins, timeout=60)
    assert [(s, o.kind) for s, o in steps] == [("load", "ok"), ("show", "ok"), ("unload", "ok")], steps
    assert not any(fuzz_pins.iterdir())
