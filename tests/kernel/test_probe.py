"""``bpfbuild probe``: the running kernel's features, checked against loading programs here."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

import pytest

from bpfbuild.abi.progtypes import AttachType, ProgType
from bpfbuild.kernel.probe import Probe, classify_helper_log, kfuncs_from_btf, load_probe

from tests.abi.bpfsys import EXIT, SLEEPABLE, Bpf, call, mov


def test_classification_of_verifier_logs() -> None:
    assert classify_helper_log(True, "") == "allowed"
    assert classify_helper_log(False, "program of this type cannot use helper bpf_xdp_adjust_head#44\n") == "denied"
    assert classify_helper_log(False, "unknown func bpf_probe_write_user#36\n") == "denied"
    assert classify_helper_log(False, "invalid func unknown#250\n") == "unknown"
    # an argument complaint means the type may call the helper: the call check comes first
    assert classify_helper_log(False, "R1 type=scalar expected=map_ptr\n") == "allowed"


def _probe_json(**over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "format": "bpfbuild-probe/1", "kernel": {"release": "5.15.0-91-generic", "version": "#101", "machine": "x86_64"},
        "isa": "v3", "limits": {"bounded_loops": True}, "sysctl": {}, "prog_types": {"XDP": True, "LSM": "EPERM"},
        "map_types": {"HASH": True, "ARENA": "EINVAL"}, "helper_ids": {"loop": 181},
        "helpers": {"XDP": ["map_lookup_elem", "loop"]}, "kfuncs": ["bpf_obj_new_impl"], "config": {"CONFIG_HZ": "250"},
    }
    data.update(over)
    return data


def test_json_round_trip_and_questions(tmp_path) -> None:
    probe = Probe.from_json(_probe_json())
    assert Probe.from_json(json.loads(json.dumps(probe.to_json()))) == probe
    assert probe.has_prog_type("XDP") and not probe.has_prog_type("LSM") and probe.prog_type_error("LSM") == "EPERM"
    assert probe.has_map_type("HASH") and probe.map_error("ARENA") == "EINVAL"
    assert probe.helper_allowed("bpf_loop", "XDP") and probe.helper_allowed("loop", "KPROBE") is None
    assert probe.helper_known("bpf_map_lookup_elem") and not probe.helper_known("ringbuf_output")
    assert probe.isa == 3 and probe.has_kfunc("bpf_obj_new_impl")
    fake = probe.without(helpers=["bpf_loop"], map_types=["HASH"])
    assert not fake.helper_known("loop") and not fake.has_map_type("HASH") and "fake probe without" in fake.note
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(probe.to_json()))
    assert load_probe(path) == probe


@pytest.mark.parametrize("text", ["{}", "[1]", '{"format": "bpfbuild-probe/1"}', "not json"])
def test_unusable_probe_files_are_one_line_errors(tmp_path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    res = subprocess.run([sys.executable, "-m", "bpfbuild", "probe", "--from", str(path)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.startswith(str(path)) and len(res.stderr.strip().splitlines()) == 1


def test_kfuncs_are_read_from_decl_tags() -> None:
    import struct

    strings = b"\0f\0g\0bpf_kfunc\0"
    types = b"".join([
        struct.pack("<III", 0, 13 << 24, 0),                   # [1] FUNC_PROTO void(void)
        struct.pack("<III", 1, 12 << 24, 1),                   # [2] FUNC f
        struct.pack("<III", 3, 12 << 24, 1),                   # [3] FUNC g
        struct.pack("<IIIi", 5, 17 << 24, 2, -1),              # [4] DECL_TAG bpf_kfunc -> f
    ])
    blob = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings)) + types + strings
    assert kfuncs_from_btf(blob) == {"f"}


# --- against this kernel -----------------------------------------------------------------

@pytest.fixture(scope="module")
def bpf() -> Bpf:
    return Bpf()


def _attach(probe: Probe, pt: str) -> int:
    name = probe.attach.get(pt)
    return 0 if name is None else int(AttachType[name])


_DENIED = re.compile(r"program of this type cannot use helper (\w+)#(\d+)|unknown func (\w+)#(\d+)")


@pytest.mark.kernel
def test_probe_agrees_with_loading_on_a_sample_of_pairs(kernel_probe, bpf: Bpf) -> None:
    """For 300 helper x program type pairs (a fixed random sample, half of them ones the probe
    allows), load a program calling the helper: a pair the probe denies must be refused naming
    exactly that helper and id; a pair it allows must load or fail only after the call check
    (on an argument, the licence, sleepability...)."""
    if kernel_probe.note:
        pytest.skip(f"the probe is simulated ({kernel_probe.note}): nothing to compare with loading")
    pairs = [(pt, name, ident) for pt in kernel_probe.helpers for name, ident in kernel_probe.helper_ids.items()]
    rng = random.Random(13)
    allowed = [p for p in pairs if kernel_probe.helper_allowed(p[1], p[0])]
    denied = [p for p in pairs if not kernel_probe.helper_allowed(p[1], p[0])]
    sample = rng.sample(allowed, 150) + rng.sample(denied, 150)
    wrong = []
    for pt, name, ident in sample:
        flags = SLEEPABLE if pt == "SYSCALL" else 0
        res = bpf.load(int(ProgType[pt]), [*(mov(r, 0) for r in range(1, 6)), call(ident), mov(0, 1), EXIT],
                       _attach(kernel_probe, pt), flags=flags)
        m = _DENIED.search(res.log)
        refused_call = m is not None and (m.group(1) or m.group(3)) == f"bpf_{name}" \
            and int(m.group(2) or m.group(4)) == ident
        if kernel_probe.helper_allowed(name, pt) == refused_call:
            wrong.append((pt, name, res.log.strip().splitlines()[-2:] if res.log else res.errno))
    assert len(sample) >= 200 and not wrong


@pytest.mark.kernel
def test_probe_map_and_program_types_agree_with_the_kernel(kernel_probe, bpf: Bpf) -> None:
    if kernel_probe.note:
        pytest.skip(f"the probe is simulated ({kernel_probe.note})")
    assert kernel_probe.has_prog_type("SOCKET_FILTER") and kernel_probe.has_map_type("HASH")
    for pt in ProgType:
        if pt is ProgType.UNSPEC or pt.name in ("TRACING", "EXT", "LSM", "STRUCT_OPS"):
            continue
        flags = SLEEPABLE if pt is ProgType.SYSCALL else 0
        assert bpf.loads(int(pt), _attach(kernel_probe, pt.name), flags=flags) == kernel_probe.has_prog_type(pt.name), pt
    # the running kernel's ISA level: a cpu v4 sign extension loads iff the probe says v4
    from tests.abi.bpfsys import insn
    movsx = bpf.load(1, [mov(1, 3), insn(0xBF, 0, 1, 8, 0), EXIT]).ok
    assert movsx == (kernel_probe.isa >= 4)


@pytest.mark.kernel
def test_cli_probe_json_is_a_target_description(kernel_probe, tmp_path) -> None:
    if kernel_probe.note:
        pytest.skip(f"the probe is simulated ({kernel_probe.note})")
    res = subprocess.run([sys.executable, "-m", "bpfbuild", "probe", "--json"], capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0, res.stderr
    path = tmp_path / "here.json"
    path.write_text(res.stdout)
    saved = load_probe(path)
    assert saved.release == kernel_probe.release and saved.helpers == kernel_probe.helpers
    assert saved.map_types == kernel_probe.map_types and saved.kfuncs == kernel_probe.kfuncs
    # the same file is a target for externs and CO-RE (bpfbuild.abi.target reads it)
    from bpfbuild.abi.target import Target as LoadTarget

    target = LoadTarget.from_file(path)
    def unquoted(config):   # a string value may be spelled "quoted" (as in the config file) or bare
        return {k: v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v for k, v in config.items()}

    assert target.release == kernel_probe.release
    assert unquoted(target.kconfig) == unquoted(dict(kernel_probe.config))
    assert target.version_code == saved.externs["LINUX_KERNEL_VERSION"]
    text = subprocess.run([sys.executable, "-m", "bpfbuild", "probe", "--from", str(path)], capture_output=True,
                          text=True, check=True).stdout
    assert f"Linux {kernel_probe.release}" in text and f"cpu v{kernel_probe.isa}" in text
    assert re.search(r"kfuncs: +\d+", text)
