"""Will it load on 5.15?  The features an object uses and those each target kernel lacks.

``data/features.bpf.c`` uses a ring buffer (5.8), ``bpf_for_each_map_elem`` (5.13) and its
callback functions (5.13), ``bpf_loop`` (5.17) and, built with ``-mcpu=v4``, sign-extending moves (cpu v4, 6.6).  It is compiled with a
clang >= 18 (clang-19/-18 on PATH, else the ziglang package's) and bpfbuild's headers where
libbpf's are absent (``bpf_cc_v4``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bpfbuild.abi.kversions import KernelFeatures, helper_since, map_type_since, parse_version, prog_type_since
from bpfbuild.obj.compat import check_object, features_of
from bpfbuild.obj.loader import load_object_file

DATA = Path(__file__).resolve().parent / "data"
SOURCE = DATA / "features.bpf.c"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def features_object(bpf_cc_v4, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """features.bpf.c with -mcpu=v4: a clang >= 18 (clang-19 on PATH, else the ziglang package's)."""
    return bpf_cc_v4.compile(SOURCE, tmp_path_factory.mktemp("compat") / "features.bpf.o", mcpu="v4")


# what the object uses, and the release that added it
USES = {"bpf_loop (helper 181)": "5.17", "bpf_for_each_map_elem (helper 164)": "5.13",
        "bpf_ringbuf_reserve (helper 131)": "5.8", "bpf_ringbuf_submit (helper 132)": "5.8",
        "RINGBUF map": "5.8", "cpu v4 instructions (sdiv/smod, movsx, ldsx, bswap, gotol)": "6.6",
        "callback functions (ld_imm64 of a function)": "5.13"}


def test_the_object_uses_what_its_source_says(features_object: Path) -> None:
    spec = load_object_file(features_object)
    (prog,) = spec.programs
    found = {f.title: f for f in features_of(spec, prog)}
    for title, since in USES.items():
        assert found[title].since == since, title
    assert found["xdp programs"].since == "4.8" and found["ARRAY map"].since == "3.19"
    assert found["bpf_loop (helper 181)"].location.line == 44       # bpf_loop(8, add_index, &c, 0);
    assert found["cpu v4 instructions (sdiv/smod, movsx, ldsx, bswap, gotol)"].location.line == 26  # (__s8)index


@pytest.mark.parametrize("version", ["5.4", "5.10", "5.15", "6.1", "6.6"])
def test_verify_kernel_names_exactly_what_each_target_lacks(features_object: Path, version: str) -> None:
    res = subprocess.run([sys.executable, "-m", "bpfbuild", "verify", str(features_object), "--kernel", version],
                         capture_output=True, text=True, check=False, cwd=REPO)
    lines = [ln for ln in res.stdout.splitlines() if ": error: " in ln]
    expected = {title for title, since in USES.items() if parse_version(since) > parse_version(version)}
    got = {}
    for ln in lines:
        m = re.fullmatch(r"tests/obj/data/features\.bpf\.c:(\d+):(\d+): error: (.+) needs Linux ([\d.]+); "
                         rf"target {re.escape(version)} lacks it", ln)
        assert m, ln
        got[m.group(3)] = m.group(4)
    assert set(got) == expected
    assert all(got[title] == USES[title] for title in got)
    assert res.returncode == (1 if expected else 0), res.stdout + res.stderr
    assert f"target {version}: " in res.stdout


def test_the_5_15_line_of_the_issue(features_object: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "bpfbuild", "verify", str(features_object), "--kernel", "5.15"],
                         capture_output=True, text=True, check=False, cwd=REPO).stdout
    assert "tests/obj/data/features.bpf.c:44:2: error: bpf_loop (helper 181) needs Linux 5.17; " \
           "target 5.15 lacks it" in out.splitlines()


def test_json_lists_lacks_per_target(features_object: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "bpfbuild", "verify", str(features_object), "--json",
                          "--kernel", "5.10", "--kernel", "6.6"], capture_output=True, text=True, check=False,
                         cwd=REPO)
    doc = json.loads(res.stdout)
    assert {d["feature"] for d in doc["targets"]["5.10"]} == \
        {"bpf_loop (helper 181)", "bpf_for_each_map_elem (helper 164)",
         "cpu v4 instructions (sdiv/smod, movsx, ldsx, bswap, gotol)", "callback functions (ld_imm64 of a function)"}
    assert doc["targets"]["6.6"] == []


def test_a_saved_probe_is_a_target(features_object: Path, tmp_path: Path) -> None:
    """A probe file (made on a fleet machine) lacking the ring buffer and bpf_loop."""
    probe = {"format": "bpfbuild-probe/1", "kernel": {"release": "6.1.0-13-amd64", "version": "#1", "machine": "x86_64"},
             "isa": "v3", "limits": {"bounded_loops": True, "more_than_4096_insns": True},
             "prog_types": {"XDP": True}, "map_types": {"ARRAY": True, "RINGBUF": "EPERM"},
             "helpers": {"XDP": ["for_each_map_elem", "ringbuf_reserve", "ringbuf_submit"]}, "kfuncs": []}
    (tmp_path / "fleet-a.json").write_text(json.dumps(probe))
    spec = load_object_file(features_object)
    target = KernelFeatures.from_probe("fleet-a.json", probe)
    got = {lack.feature.title: lack.reason for lack in check_object(spec, target)}
    assert got == {
        "bpf_loop (helper 181)": "target fleet-a.json (Linux 6.1.0-13-amd64) does not offer it to xdp programs",
        "RINGBUF map": "target fleet-a.json (Linux 6.1.0-13-amd64) cannot create it (EPERM)",
        "cpu v4 instructions (sdiv/smod, movsx, ldsx, bswap, gotol)":
            "needs Linux 6.6; target fleet-a.json (Linux 6.1.0-13-amd64) lacks it",
    }
    res = subprocess.run([sys.executable, "-m", "bpfbuild", "verify", str(features_object), "--kernel",
                          str(tmp_path / "fleet-a.json")], capture_output=True, text=True, check=False, cwd=REPO)
    assert res.returncode == 1 and res.stdout.count(": error: ") == 3


def test_tables_cover_the_abi() -> None:
    from bpfbuild.abi.helpers import helper_name
    from bpfbuild.abi.maptypes import MapType
    from bpfbuild.abi.progtypes import ProgType

    assert all(helper_since(helper_name(i) or "") is not None for i in range(1, 212))
    assert all(map_type_since(m.name) for m in MapType if m.value)
    assert all(prog_type_since(p.name) for p in ProgType if p.value)
    assert helper_since("bpf_loop") == (5, 17) and helper_since("ringbuf_output") == (5, 8)
    assert map_type_since("RINGBUF") == (5, 8) and prog_type_since("SYSCALL") == (5, 14)


@pytest.mark.kernel
def test_running_agrees_with_loading_here(features_object: Path, kernel_probe) -> None:
    """`running` finds nothing missing exactly when this kernel loads the object."""
    from bpfbuild.kernel import verdict

    target = KernelFeatures.from_probe("running", kernel_probe.to_json())
    spec = load_object_file(features_object)
    lacks = check_object(spec, target)
    loaded = verdict(features_object, "features").accepted
    if kernel_probe.note and lacks:
        pytest.skip(f"simulated probe ({kernel_probe.note}) lacks: " + "; ".join(lack.message for lack in lacks))
    assert loaded == (not lacks), [lack.message for lack in lacks]


@pytest.mark.kernel
def test_running_lacks_what_this_kernel_configures_out(kernel_probe, bpf_cc, tmp_path: Path) -> None:
    """A helper no program type of this kernel may call (configured out): `running` names it at
    its line, and loading the program here fails on that helper."""
    from bpfbuild.abi.helpers import helper_id
    from bpfbuild.abi.protos import helper_prog_types
    from bpfbuild.kernel import verdict

    missing = sorted(set(kernel_probe.helper_ids) - kernel_probe.all_helpers())
    usable = [(name, pt) for name in missing for pt in sorted(helper_prog_types(name), key=int)
              if pt.name in kernel_probe.helpers and pt.name in ("SCHED_CLS", "XDP", "LWT_SEG6LOCAL", "KPROBE")]
    if not usable:
        pytest.skip(f"{kernel_probe.identity} offers every helper bpfbuild knows to some probed program type")
    name, pt = usable[0]
    section = {"SCHED_CLS": "tc", "XDP": "xdp", "LWT_SEG6LOCAL": "lwt_seg6local", "KPROBE": "kprobe/do_nanosleep"}[pt.name]
    src = tmp_path / "missing.bpf.c"
    src.write_text(f'#include <linux/bpf.h>\n#define SEC(x) __attribute__((section(x), used))\n'
                   f'static long (*helper)(void *, long, long, long) = (void *){helper_id(name)};\n'
                   f'SEC("{section}") int prog(void *ctx)\n{{\n\treturn helper(ctx, 0, 0, 0);\n}}\n'
                   f'char LICENSE[] SEC("license") = "GPL";\n')
    obj = bpf_cc.compile(src, tmp_path / "missing.bpf.o")
    spec = load_object_file(obj)
    lacks = check_object(spec, KernelFeatures.from_probe("running", kernel_probe.to_json()))
    assert [(lack.feature.key, lack.feature.location.line) for lack in lacks] == [("bpf_" + name, 6)]
    assert not verdict(obj, "prog").accepted


def _program(text: str, section: str = "xdp") -> tuple[object, object]:
    from types import SimpleNamespace

    from bpfbuild.abi.progtypes import classify_section
    from bpfbuild.isa.asm import assemble
    from bpfbuild.obj.spec import Program

    prog = Program("p", section, classify_section(section), assemble(text), "GPL")
    return SimpleNamespace(maps=(), programs=(prog,), externs=()), prog


@pytest.mark.parametrize(("text", "feature", "since"), [
    ("r0 = 0\nr0 += 1\nif r0 < 4 goto -2\nexit", "bounded_loops", "5.3"),
    ("r0 = 0\nif r0 < 4 goto +0\nexit", "jmp_lt", "4.14"),
    ("w0 = 0\nif w0 > 4 goto +0\nexit", "jmp32", "5.1"),
    ("r1 = 0\n*(u64 *)(r10 - 8) = r1\nr2 = r10\nr2 += -8\nr1 = atomic_fetch_add((u64 *)(r2 + 0), r1)\nr0 = 0\nexit",
     "atomics", "5.12"),
    ("r0 = 7\nr0 s/= 2\nexit", "cpu_v4", "6.6"),
])
def test_instruction_features(text: str, feature: str, since: str) -> None:
    spec, prog = _program(text)
    found = {f.key: f for f in features_of(spec, prog)}   # type: ignore[arg-type]
    assert found[feature].since == since
    older = f"{since.split('.')[0]}.{int(since.split('.')[1]) - 1}" if since.split(".")[1] != "0" else "4.9"
    lacks = [lack.feature.key for lack in check_object(spec, KernelFeatures.from_version(older))]  # type: ignore[arg-type]
    assert feature in lacks
    assert feature not in [lack.feature.key for lack in check_object(spec, KernelFeatures.from_version(since))]  # type: ignore[arg-type]


@pytest.mark.parametrize(("section", "since"), [("tc", "4.20"), ("xdp", "5.0"), ("cgroup/connect4", "5.0"),
                                                ("cgroup_skb/ingress", "5.8")])
def test_a_helper_reached_program_types_at_different_releases(section: str, since: str) -> None:
    """bpf_sk_lookup_tcp (4.20, tc): XDP and cgroup sock_addr programs got it in 5.0, cgroup skb in 5.8."""
    spec, prog = _program("r0 = 0\ncall 84\nr0 = 0\nexit", section)
    (helper,) = [f for f in features_of(spec, prog) if f.kind == "helper"]   # type: ignore[arg-type]
    assert helper.since == since
    major, minor = map(int, since.split("."))
    before = "4.19" if since == "4.20" else "4.20" if since == "5.0" else f"{major}.{minor - 1}"
    (lack,) = [lack for lack in check_object(spec, KernelFeatures.from_version(before))   # type: ignore[arg-type]
               if lack.feature.kind == "helper"]
    in_type = "" if since == "4.20" else f" in {prog.prog_type.name.lower()} programs"   # type: ignore[attr-defined]
    assert lack.message == f"bpf_sk_lookup_tcp (helper 84) needs Linux {since}{in_type}; target {before} lacks it"
    assert not [lack for lack in check_object(spec, KernelFeatures.from_version(since))   # type: ignore[arg-type]
                if lack.feature.kind == "helper"]


def test_base_helpers_reached_every_program_type_at_once() -> None:
    """The ring buffer, bpf_loop and bpf_for_each_map_elem came with bpf_base_func_proto: no
    program type has a later release than the helper; bpf_get_func_ip came to fentry and kprobe
    programs in one release."""
    from bpfbuild.abi.kversions import helper_since_for
    from bpfbuild.abi.progtypes import ProgType

    for name in ("ringbuf_reserve", "loop", "for_each_map_elem", "ktime_get_boot_ns"):
        assert {helper_since_for(name, p.name) for p in ProgType if p.value} == {helper_since(name)}
    assert helper_since_for("get_func_ip", "TRACING") == helper_since_for("get_func_ip", "KPROBE") == (5, 15)
    # sk local storage: networking programs with the helper (5.2), LSM 5.10, fentry/fexit/tp_btf 5.11
    assert [helper_since_for("bpf_sk_storage_get", t) for t in ("SCHED_CLS", "LSM", "TRACING")] == \
        [(5, 2), (5, 10), (5, 11)]


def test_a_kfunc_table_is_consulted_for_version_targets() -> None:
    """bpfbuild.abi.kfuncs' release table (imported by compat directly): a strong kfunc call is a
    feature of its own, and a version target lacks it before the table's release."""
    from bpfbuild.abi.kfuncs import kfunc_since
    from bpfbuild.obj import compat

    spec, prog = _program("r0 = 0\nexit")
    object.__setattr__(prog, "kfunc_calls", ((0, "bpf_rcu_read_lock"),))
    assert compat.kfunc_since is kfunc_since and kfunc_since("bpf_rcu_read_lock") == (6, 2)
    lacks = [lack.message for lack in check_object(spec, KernelFeatures.from_version("6.1"))]   # type: ignore[arg-type]
    assert lacks == ["kfunc bpf_rcu_read_lock needs Linux 6.2; target 6.1 lacks it"]
    assert not check_object(spec, KernelFeatures.from_version("6.2"))   # type: ignore[arg-type]


def test_a_plain_atomic_add_is_not_a_5_12_feature() -> None:
    spec, prog = _program("r1 = 1\n*(u64 *)(r10 - 8) = r1\nr2 = r10\nr2 += -8\nlock *(u64 *)(r2 + 0) += r1\n"
                          "r0 = 0\nexit")
    assert "atomics" not in {f.key for f in features_of(spec, prog)}   # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["5.x", "latest", "5"])
def test_a_bad_target_is_one_line_exit_2(features_object: Path, bad: str) -> None:
    res = subprocess.run([sys.executable, "-m", "bpfbuild", "verify", str(features_object), "--kernel", bad],
                         capture_output=True, text=True, check=False, cwd=REPO)
    assert res.returncode == 2 and "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert repr(bad) in res.stderr


def test_a_kfunc_names_the_release_that_added_it() -> None:
    """``bpf_iter_num_new`` came with Linux 6.4: a 6.1 target lacks it, 6.4 has it; the plain
    'kfunc calls' feature (5.13) is reported apart."""
    from dataclasses import replace

    spec, prog = _program("call 1\nr0 = 0\nexit")
    insns = list(prog.insns)   # type: ignore[attr-defined]
    insns[0] = replace(insns[0], src=2, imm=77)
    prog = replace(prog, insns=tuple(insns), kfunc_calls=((0, "bpf_iter_num_new"),))   # type: ignore[type-var]
    spec.programs = (prog,)   # type: ignore[attr-defined]
    found = {f.key: f for f in features_of(spec, prog)}   # type: ignore[arg-type]
    assert found["bpf_iter_num_new"].since == "6.4"
    lacks = {lack.feature.title: lack.reason for lack in check_object(spec, KernelFeatures.from_version("6.1"))}  # type: ignore[arg-type]
    assert lacks == {"kfunc bpf_iter_num_new": "needs Linux 6.4; target 6.1 lacks it"}
    assert "kfunc calls" in {lack.feature.title for lack in
                             check_object(spec, KernelFeatures.from_version("5.10"))}  # type: ignore[arg-type]
    assert not check_object(spec, KernelFeatures.from_version("6.4"))  # type: ignore[arg-type]
