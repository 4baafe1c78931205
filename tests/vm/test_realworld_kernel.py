"""tests/vm/realworld/ in Linux: where BPF_PROG_TEST_RUN runs the program type, the kernel and
the emulator give the same answers (redirect maps' empty and filled slots, a cgroup array,
pid namespace ids).  Skipped with the reason where bpf() is not permitted or this kernel's
build refuses a map or helper."""

from __future__ import annotations

import os
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from bpfbuild.errors import KernelError
from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm import load, load_spec
from bpfbuild.vm.maps import RedirectArray
from bpfbuild.vm.specrun import case_object, retval_text, run_case

from .conftest import Compiler, _availability

pytestmark = pytest.mark.kernel

HERE = Path(__file__).resolve().parent / "realworld"


@pytest.fixture(scope="module")
def bpf_ok() -> None:
    reason = _availability()
    if reason is not None:
        pytest.skip(reason)


def _open_loaded(objpath: Path, objspec: Any, init: Any, only: str) -> Any:
    """The object in the kernel with only ``only`` autoloaded, .rodata as the emulated object
    has it; skip (with the kernel's reason) when this kernel refuses it."""
    from bpfbuild.kernel import KernelObject

    ko = KernelObject.open(str(objpath))
    try:
        for prog in objspec.programs:
            ko.program(prog.name).autoload = prog.name == only
        for m in objspec.maps:
            if m.is_global_data and m.readonly:
                ko.map(m.section).initial_value = bytes(init.session.map(m.name).lookup(0))
        ko.load()
    except KernelError as exc:
        ko.close()
        pytest.skip(f"this kernel refuses {objpath.name}/{only}: {exc}")
    return ko


def _redirect_cases() -> list[tuple[int, str]]:
    spec = load_spec(HERE / "redirect_maps.test.toml")
    return [(c.index, c.name) for c in spec.cases]


@pytest.mark.parametrize(("index", "name"), _redirect_cases(), ids=lambda v: str(v))
def test_redirect_maps_match_the_kernel(index: int, name: str, bpf_ok: None, compile_bpf: Compiler) -> None:
    objpath = compile_bpf(HERE / "redirect_maps.bpf.c")
    objspec = load_object_file(objpath)
    spec = load_spec(HERE / "redirect_maps.test.toml")
    case = spec.cases[index]
    if case.kernel is not True:
        pytest.skip(f"the spec says: {case.kernel}")
    if any(run.ctx for run in case.runs):
        pytest.skip("ctx fields are not passed to the kernel by this harness")
    emulated = run_case(spec, objspec, case)
    assert emulated.ok, "\n".join(f.render() for f in emulated.failures)
    init = case_object(objspec, case)
    program = case.runs[0].program or spec.program
    with _open_loaded(objpath, objspec, init, program) as ko:
        for m in objspec.maps:
            raw = init.session.map(m.name)
            if isinstance(raw, RedirectArray):
                for key, value in raw.items():
                    try:
                        ko.map(m.name).handle().update(key, bytes(value))
                    except KernelError as exc:
                        pytest.skip(f"this kernel refuses {m.name}[{int.from_bytes(key, 'little')}]: {exc}")
        got = ko.program(program).test_run(case.runs[0].packet or bytes(64))
    ours = emulated.runs[0].result
    assert ours is not None
    assert got.retval == ours.retval32, f"kernel {retval_text(got.retval, None)}, emulator {retval_text(ours, None)}"


def test_skb_under_cgroup_matches_the_kernel(bpf_ok: None, compile_bpf: Compiler) -> None:
    """test_run's socket belongs to the caller's cgroup, which is under the root cgroup: slot 0
    holding the root gives 1 in both; an empty slot -EAGAIN; the root stands for id 1 here."""
    root = _cgroup2_root()
    if root is None:
        pytest.skip("no cgroup v2 hierarchy mounted")
    objpath = compile_bpf(HERE / "cgroups.bpf.c")
    objspec = load_object_file(objpath)
    results = {}
    for filled in (False, True):
        obj = load(objspec)
        if filled:
            obj.maps.cgroups.raw.update(0, 1)
        ours = obj.run("tc_cgroup", packet=bytes(64))
        init = load(objspec)
        with _open_loaded(objpath, objspec, init, "tc_cgroup") as ko:
            if filled:
                fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    ko.map("cgroups").handle().update(0, struct.pack("<I", fd))
                finally:
                    os.close(fd)
            got = ko.program("tc_cgroup").test_run(bytes(64))
            bss = ko.map(".bss").handle().lookup(0)
        kernel_last = struct.unpack_from("<q", bss, objspec_offset(obj, "last"))[0]
        results[filled] = (got.retval, kernel_last, ours.retval32, obj.globals.last)
    assert results[False] == (2, -11, 2, -11)
    assert results[True] == (0, 1, 0, 1)


def _cgroup2_root() -> str | None:
    """Where the cgroup v2 hierarchy is mounted (a cgroup array takes its directories' fds)."""
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                fields = line.split()
                if len(fields) > 2 and fields[2] == "cgroup2":
                    return fields[1]
    except OSError:
        return None
    return None


def objspec_offset(obj: Any, name: str) -> int:
    return obj.globals.place(name)[1]


def test_ns_current_pid_tgid_matches_the_kernel(bpf_ok: None, compile_bpf: Compiler) -> None:
    st = os.stat("/proc/self/ns/pid")
    objpath = compile_bpf(HERE / "ids.bpf.c")
    objspec = load_object_file(objpath)
    tid, pid = threading.get_native_id(), os.getpid()
    for ino in (st.st_ino, st.st_ino + 1):
        obj = load(objspec, pid=tid, tgid=pid, pidns_dev=st.st_dev, pidns_ino=st.st_ino)
        obj.globals.ns_dev = st.st_dev
        obj.globals.ns_ino = ino
        obj.run("xdp_ns", packet=bytes(64))
        with _open_loaded(objpath, objspec, obj, "xdp_ns") as ko:
            ko.program("xdp_ns").test_run(bytes(64))
            bss = ko.map(".bss").handle().lookup(0)
        kernel = {n: struct.unpack_from("<q" if n == "ns_ret" else "<I", bss, objspec_offset(obj, n))[0]
                  for n in ("ns_ret", "ns_pid", "ns_tgid")}
        ours = {n: obj.globals[n] for n in ("ns_ret", "ns_pid", "ns_tgid")}
        assert kernel == ours, f"ino {ino:#x}"
    assert ours["ns_ret"] == -22 and kernel["ns_ret"] == -22
