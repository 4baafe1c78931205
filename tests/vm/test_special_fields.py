"""Special fields of map values (a bpf_spin_lock and a bpf_timer, from the value's BTF) as the
bpf() syscall treats them: user space neither writes nor reads them (copy_map_value,
check_and_init_map_value), and an update or delete frees the fields of the element it
overwrites or replaces (bpf_obj_free_fields: the timer is cancelled and forgotten).  The
same steps run in the kernel as the oracle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bpfbuild.vm import load

SPECIAL = Path(__file__).parent / "effects" / "special.bpf.c"
SIZE = 40                      # struct val: a@0, lock@8, b@12, t@16 (16 bytes), fired@32
LOCK, TIMER = range(8, 12), range(16, 32)
F_LOCK = 4


@pytest.fixture(scope="module")
def special_obj(compile_bpf) -> Path:
    return compile_bpf(SPECIAL)


def _seen(fill: int) -> bytes:
    """A value of ``fill`` bytes as a lookup returns it: the lock and the timer read as zeros."""
    return bytes(0 if i in LOCK or i in TIMER else fill for i in range(SIZE))


# the steps, each with what the kernel answers: ("run", retval of arm_timers) or
# ("update"/"delete", map, key[, fill, flags]) or ("lookup", map, key, expected bytes)
STEPS: list[tuple] = [
    ("run", 1),                      # arr[0]'s timer armed (hsh is empty)
    ("run", 0),                      # init again: -EBUSY
    ("update", "arr", 0, 0xFF, 0),   # user space overwrites arr[0]: its timer is freed ...
    ("lookup", "arr", 0, _seen(0xFF)),
    ("run", 1),                      # ... so init works again
    ("update", "arr", 0, 0xEE, F_LOCK),   # BPF_F_LOCK: the value has a bpf_spin_lock
    ("lookup", "arr", 0, _seen(0xEE)),
    ("run", 1),
    ("update", "hsh", 0, 0xDD, 0),   # a new hash element: zeroed lock and timer
    ("lookup", "hsh", 0, _seen(0xDD)),
    ("run", 1),                      # arr[0]: -EBUSY; hsh[0] armed
    ("run", 0),
    ("update", "hsh", 0, 0xCC, 0),   # replaced by a new element: the old one's timer freed
    ("run", 1),
    ("update", "hsh", 0, 0xBB, F_LOCK),   # with BPF_F_LOCK: updated in place, timer kept
    ("lookup", "hsh", 0, _seen(0xBB)),
    ("run", 0),
    ("delete", "hsh", 0),
    ("update", "hsh", 0, 0xAA, 0),
    ("run", 1),
]


def _play(run: Callable[[], int], update: Callable[[str, int, bytes, int], None],
          delete: Callable[[str, int], None], lookup: Callable[[str, int], bytes]) -> list:
    """The answers to STEPS from one side (emulator or kernel)."""
    out: list = []
    for step in STEPS:
        if step[0] == "run":
            out.append(("run", run()))
        elif step[0] == "update":
            _, name, key, fill, flags = step
            update(name, key, bytes([fill]) * SIZE, flags)
            out.append(step)
        elif step[0] == "delete":
            delete(step[1], step[2])
            out.append(step)
        else:
            out.append(("lookup", step[1], step[2], lookup(step[1], step[2])))
    return out


def test_user_space_skips_special_fields_and_updates_free_them(special_obj: Path) -> None:
    obj = load(special_obj)
    maps = obj.session.maps
    got = _play(lambda: obj.run("arm_timers", packet=bytes(64)).retval,
                lambda name, key, value, flags: maps[name].update(key, value, flags),
                lambda name, key: maps[name].delete(key),
                lambda name, key: maps[name].lookup(key))
    assert got == STEPS


def test_a_programs_lock_and_timer_stay_hidden_from_lookups(special_obj: Path) -> None:
    obj = load(special_obj)
    arr = obj.session.maps["arr"]
    assert obj.run("arm_timers", packet=bytes(64)).retval == 1
    value = arr.lookup(0)
    assert value[:8] == (1).to_bytes(8, "little")           # v->a++ under the lock
    assert value[8:32] == bytes(24)
    assert obj.machine.fire_timers() == 1
    assert arr.lookup(0)[32:] == (1).to_bytes(8, "little")  # the callback ran on the element


@pytest.mark.kernel
def test_the_kernel_answers_the_same(special_obj: Path, requires_kernel) -> None:
    from bpfbuild.errors import KernelError
    from bpfbuild.kernel import KernelObject

    with KernelObject.open(str(special_obj)) as ko:
        try:
            ko.load()
        except KernelError as exc:
            pytest.skip(f"this kernel refuses the timer program: {exc}")
        prog = ko.program("arm_timers")
        handles = {name: ko.map(name).handle() for name in ("arr", "hsh")}
        got = _play(lambda: prog.test_run(bytes(64)).retval,
                    lambda name, key, value, flags: handles[name].update(key, value, flags),
                    lambda name, key: handles[name].delete(key),
                    lambda name, key: handles[name].lookup(key))
    assert got == STEPS
