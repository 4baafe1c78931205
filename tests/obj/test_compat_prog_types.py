"""Will it load on kernel X, per program type: a helper that reached a program type later than it
was added is reported with the program type and the release that allowed it; a map whose value
holds a spin lock is reported for a kprobe program on every release.

``data/late_helpers.bpf.c`` calls bpf_get_socket_cookie from a cgroup sock program (5.7),
bpf_get_netns_cookie from a tc program (6.13), and uses a map with a bpf_spin_lock from a kprobe
program and from a sleepable LSM program; it is compiled with bpfbuild's compiler (clang, else zig's) and headers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bpfbuild.abi.helpers import helper_id
from bpfbuild.abi.kversions import KernelFeatures
from bpfbuild.obj.compat import check_object, features_of
from bpfbuild.obj.loader import load_object_file

DATA = Path(__file__).resolve().parent / "data"
SOURCE = DATA / "late_helpers.bpf.c"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def late_object(bpf_cc, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bpf_cc.compile(SOURCE, tmp_path_factory.mktemp("late") / "late_helpers.bpf.o")


def _line(pattern: str) -> int:
    return next(i for i, text in enumerate(SOURCE.read_text().splitlines(), 1) if pattern in text)


def _helper_lacks(spec: object, version: str) -> dict[str, str]:
    return {f"{lack.feature.program}:{lack.feature.key}": lack.message
            for lack in check_object(spec, KernelFeatures.from_version(version))   # type: ignore[arg-type]
            if lack.feature.kind == "helper"}


@pytest.mark.parametrize(("program", "helper", "ident", "before", "since", "kind"), [
    ("sock_cookie", "bpf_get_socket_cookie", 46, "5.6", "5.7", "cgroup_sock"),
    ("tc_netns", "bpf_get_netns_cookie", 122, "6.12", "6.13", "sched_cls"),
])
def test_a_helper_a_program_type_got_late(late_object: Path, program: str, helper: str, ident: int, before: str,
                                          since: str, kind: str) -> None:
    spec = load_object_file(late_object)
    assert _helper_lacks(spec, before)[f"{program}:{helper}"] == \
        f"{helper} (helper {ident}) needs Linux {since} in {kind} programs; target {before} lacks it"
    assert f"{program}:{helper}" not in _helper_lacks(spec, since)


def test_verify_kernel_prints_the_line_before_and_nothing_after(late_object: Path) -> None:
    def lines(version: str) -> list[str]:
        res = subprocess.run([sys.executable, "-m", "bpfbuild", "verify", str(late_object), "--kernel", version],
                             capture_output=True, text=True, check=False, cwd=REPO)
        assert "Traceback" not in res.stderr
        return [ln for ln in res.stdout.splitlines() if "get_socket_cookie" in ln and ": error: " in ln]

    line = _line("bpf_get_socket_cookie(ctx)")
    (got,) = lines("5.6")
    assert re.fullmatch(rf"tests/obj/data/late_helpers\.bpf\.c:{line}:\d+: error: bpf_get_socket_cookie \(helper 46\) "
                        r"needs Linux 5\.7 in cgroup_sock programs; target 5\.6 lacks it", got), got
    assert lines("5.7") == []


def test_a_spin_lock_map_in_a_kprobe_program_lacks_on_every_release(late_object: Path) -> None:
    spec = load_object_file(late_object)
    prog = next(p for p in spec.programs if p.name == "kp_lock")
    fields = [f for f in features_of(spec, prog) if f.kind == "map_field"]
    assert [(f.key, f.map, f.location.line if f.location else None) for f in fields] == \
        [("bpf_spin_lock", "locks", _line("bpf_map_lookup_elem(&locks"))]
    for version in ("5.1", "6.18"):
        lacks = [lack.message for lack in check_object(spec, KernelFeatures.from_version(version))
                 if lack.feature.kind == "map_field" and lack.feature.program == "kp_lock"]
        assert lacks == [f"bpf_spin_lock in map locks cannot be used by kprobe programs on any release "
                         f"(target {version})"]
    # the programs that do not use the map: nothing to say about its lock there
    assert {lack.feature.program for lack in check_object(spec, KernelFeatures.from_version("4.19"))
            if lack.feature.kind == "map_field"} == {"kp_lock", "lock_sleepable"}


def test_a_sleepable_program_holding_a_spin_lock(late_object: Path) -> None:
    """bpf_spin_lock reached LSM programs in 5.11; sleepable ones may use a map with a lock from 6.6."""
    spec = load_object_file(late_object)

    def lacks(version: str) -> set[str]:
        return {lack.message for lack in check_object(spec, KernelFeatures.from_version(version))
                if lack.feature.program == "lock_sleepable" and lack.feature.kind in ("helper", "map_field")}

    assert lacks("5.10") == {"bpf_spin_lock in map locks needs Linux 6.6 in sleepable programs; target 5.10 lacks it",
                             "bpf_spin_lock (helper 93) needs Linux 5.11 in lsm programs; target 5.10 lacks it",
                             "bpf_spin_unlock (helper 94) needs Linux 5.11 in lsm programs; target 5.10 lacks it"}
    assert lacks("6.5") == {"bpf_spin_lock in map locks needs Linux 6.6 in sleepable programs; target 6.5 lacks it"}
    assert lacks("6.6") == set()


def _program(helper: str, section: str) -> tuple[object, object]:
    from bpfbuild.abi.progtypes import classify_section
    from bpfbuild.isa.asm import assemble
    from bpfbuild.obj.spec import Program

    prog = Program("p", section, classify_section(section), assemble(f"call {helper_id(helper)}\nr0 = 0\nexit"), "GPL")
    return SimpleNamespace(maps=(), programs=(prog,), externs=(), btf=None), prog


@pytest.mark.parametrize(("helper", "section", "since", "in_type"), [
    ("bpf_get_socket_cookie", "fentry/tcp_v4_connect", "5.12", "tracing"),
    ("bpf_get_socket_cookie", "sk_reuseport", "5.14", "sk_reuseport"),
    ("bpf_get_socket_cookie", "sockops", "4.19", "sock_ops"),
    ("bpf_get_netns_cookie", "sockops", "5.15", "sock_ops"),
    ("bpf_get_netns_cookie", "socket", "6.15", "socket_filter"),
    ("bpf_sk_storage_get", "lsm/socket_bind", "5.10", "lsm"),
    ("bpf_get_current_task_btf", "xdp", "5.15", "xdp"),
    ("bpf_get_current_pid_tgid", "tc", "6.10", "sched_cls"),
    ("bpf_spin_lock", "fentry/tcp_v4_connect", "5.15", "tracing"),
    ("bpf_get_attach_cookie", "fentry/tcp_v4_connect", "5.19", "tracing"),
    ("bpf_get_func_ip", "kprobe/do_nanosleep", "5.15", None),
    ("bpf_ktime_get_coarse_ns", "xdp", "5.11", None),
    ("bpf_skb_load_bytes", "sk_skb", "4.5", None),
])
def test_helper_releases_per_program_type(helper: str, section: str, since: str, in_type: str | None) -> None:
    spec, prog = _program(helper, section)
    (feature,) = [f for f in features_of(spec, prog) if f.kind == "helper"]   # type: ignore[arg-type]
    assert feature.since == since
    major, minor = map(int, since.split("."))
    before = {(5, 0): "4.20", (6, 0): "5.19"}.get((major, minor), f"{major}.{minor - 1}")
    lacks = _helper_lacks(spec, before)
    where = f" in {in_type} programs" if in_type else ""
    assert lacks == {f"p:{helper}": f"{helper} (helper {helper_id(helper)}) needs Linux {since}{where}; "
                                    f"target {before} lacks it"}
    assert _helper_lacks(spec, since) == {}
