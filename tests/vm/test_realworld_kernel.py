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
from bpfbuild.vm.maps import ArrayMap, HashMap, RedirectArray
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


#: realworld specs whose cases BPF_PROG_TEST_RUN can run (XDP)
KERNEL_SPECS = ("redirect_maps", "xdp_bytes", "map_walk")


def _kernel_cases() -> list[tuple[str, int, str]]:
    return [(name, c.index, c.name) for name in KERNEL_SPECS for c in load_spec(HERE / f"{name}.test.toml").cases]


@pytest.mark.parametrize(("name", "index", "case_name"), _kernel_cases(), ids=lambda v: str(v))
def test_spec_case_matches_the_kernel(name: str, index: int, case_name: str, bpf_ok: None,
                                      compile_bpf: Compiler) -> None:
    """The same seeded state in both (.rodata before load, redirect map slots), then the return
    value, the packet out and the spec's expected globals compared."""
    objpath = compile_bpf(HERE / f"{name}.bpf.c")
    objspec = load_object_file(objpath)
    spec = load_spec(HERE / f"{name}.test.toml")
    case = spec.cases[index]
    if case.kernel is not True:
        pytest.skip(f"the spec says: {case.kernel}")
    if any(run.ctx for run in case.runs):
        pytest.skip("ctx fields are not passed to the kernel by this harness")
    emulated = run_case(spec, objspec, case)
    assert emulated.ok, "\n".join(f.render() for f in emulated.failures)
    init = case_object(objspec, case)
    run = case.runs[0]
    program = run.program or spec.program
    with _open_loaded(objpath, objspec, init, program) as ko:
        for m in objspec.maps:   # the seeded state: writable globals, map elements
            raw = init.session.map(m.name)
            if m.is_global_data:
                if not m.readonly:
                    ko.map(m.section).handle().update(0, bytes(raw.lookup(0)))
                continue
            if not isinstance(raw, (RedirectArray, HashMap, ArrayMap)) or raw.per_cpu:
                continue
            for key, value in raw.items():
                if isinstance(raw, ArrayMap) and not any(value):
                    continue
                try:
                    ko.map(m.name).handle().update(key, bytes(value))
                except KernelError as exc:
                    pytest.skip(f"this kernel refuses {m.name}[{int.from_bytes(key, 'little')}]: {exc}")
        got = ko.program(program).test_run(run.packet if run.packet is not None else bytes(14))
        sections = {m.name: ko.map(m.section).handle().lookup(0) for m in objspec.maps
                    if m.is_global_data and not m.readonly}
    ours = emulated.runs[0].result
    assert ours is not None
    assert got.retval == ours.retval32, f"kernel {retval_text(got.retval, None)}, emulator {retval_text(ours, None)}"
    assert got.data_out == (ours.meta or b"") + (ours.packet or b"")
    final = emulated.obj
    assert final is not None
    for gname in case.expect.globals:
        map_name, offset, size = final.globals.place(gname)
        assert sections[map_name][offset:offset + size] == final.globals.raw(gname), f"global {gname}"


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


def _kernel_global(ko: Any, objspec: Any, obj: Any, name: str) -> bytes:
    """A global variable's bytes in the kernel's copy of its section."""
    map_name, offset, size = obj.globals.place(name)
    section = next(m.section for m in objspec.maps if m.name == map_name)
    return bytes(ko.map(section).handle().lookup(0)[offset:offset + size])


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


@pytest.mark.parametrize(("plen", "flags", "family", "expected"), [
    (63, 0, 2, -22),          # a short parameter block: -EINVAL
    (64, 1 << 10, 2, -22),    # an unknown flag: -EINVAL
    (64, 0, 0, -97),          # neither AF_INET nor AF_INET6: -EAFNOSUPPORT
    (64, 0, 99, -97),
])
def test_fib_lookup_argument_checks_match_the_kernel(plen: int, flags: int, family: int, expected: int,
                                                     bpf_ok: None, compile_bpf: Compiler) -> None:
    objpath = compile_bpf(HERE / "fib_forward.bpf.c")
    objspec = load_object_file(objpath)
    obj = load(objspec)
    obj.globals.probe_plen = plen
    obj.globals.probe_flags = flags
    obj.globals.probe_family = family
    obj.run("fib_probe", packet=bytes(64))
    with _open_loaded(objpath, objspec, obj, "fib_probe") as ko:
        ko.program("fib_probe").test_run(bytes(64))
        data = ko.map(".data").handle().lookup(0)
    kernel_rc = struct.unpack_from("<q", data, objspec_offset(obj, "last_rc"))[0]
    assert kernel_rc == obj.globals.last_rc == expected


def test_socket_cookie_and_cgroup_id_match_the_kernel(bpf_ok: None, compile_bpf: Compiler) -> None:
    """test_run gives the packet a socket: its cookie is not 0, its cgroup is the caller's
    cgroup v2 (whose id is the inode of its directory)."""
    root = _cgroup2_root()
    if root is None:
        pytest.skip("no cgroup v2 hierarchy mounted")
    with open("/proc/self/cgroup") as f:
        path = next((line.strip()[3:] for line in f if line.startswith("0::")), None)
    if path is None:
        pytest.skip("this process has no cgroup v2 membership")
    cgroup_id = os.stat(os.path.join(root, path.lstrip("/"))).st_ino
    objpath = compile_bpf(HERE / "ids.bpf.c")
    objspec = load_object_file(objpath)
    obj = load(objspec, cgroup_id=cgroup_id)
    obj.run("tc_cookie", packet=bytes(64))
    with _open_loaded(objpath, objspec, obj, "tc_cookie") as ko:
        ko.program("tc_cookie").test_run(bytes(64))
        bss = ko.map(".bss").handle().lookup(0)
    kernel_cookie = struct.unpack_from("<Q", bss, objspec_offset(obj, "cookie"))[0]
    kernel_cgid = struct.unpack_from("<Q", bss, objspec_offset(obj, "cgid"))[0]
    assert kernel_cookie != 0 and obj.globals.cookie != 0
    assert kernel_cgid == obj.globals.cgid == cgroup_id


def test_stack_ids_are_the_kernels_hash(bpf_ok: None, compile_bpf: Compiler) -> None:
    """The kernel's stack ids are jhash2 of the frames masked to the bucket count: the
    emulator stores the same frames under the same ids (stackmap.c)."""
    from bpfbuild.vm import Session

    objpath = compile_bpf(HERE / "stack_hash.bpf.c")
    objspec = load_object_file(objpath)
    init = load(objspec)
    init.globals.target_tid = threading.get_native_id()
    with _open_loaded(objpath, objspec, init, "on_enter") as ko:
        try:
            link = ko.program("on_enter").attach()
        except KernelError as exc:
            pytest.skip(f"this kernel cannot attach a raw tracepoint here: {exc}")
        with link:
            os.getppid()   # a syscall of this thread
        ids = {n: struct.unpack("<q", _kernel_global(ko, objspec, init, n))[0] for n in ("kern_id", "user_id")}
        frames = {n: ko.map("stacks").handle().lookup(struct.pack("<I", ids[n])) if ids[n] >= 0 else None
                  for n in ids}
    if ids["kern_id"] < 0:
        pytest.skip(f"the kernel gave no kernel stack id ({ids['kern_id']})")
    spec = next(m for m in objspec.maps if m.name == "stacks")
    for name, raw in frames.items():
        if raw is None:
            continue
        ips = tuple(int.from_bytes(raw[i:i + 8], "little") for i in range(0, len(raw), 8))
        ips = ips[:next((i for i, ip in enumerate(ips) if ip == 0), len(ips))]
        session = Session()
        stack_map = session.new_map("stacks", spec.type, spec.key_size, spec.value_size, spec.max_entries)
        assert stack_map.store(ips, fast_cmp=False, reuse=False) == ids[name], name
        assert stack_map.lookup(ids[name]) == raw, name
