"""The Target: what each constructor reads (and when), the probe-file format, derived facts."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from bpfbuild.abi.target import DEFAULT_VERSION, Kconfig, Target, kernel_version_code, target_arch
from bpfbuild.errors import ConfigError


def test_version_code_saturates_the_patch_level():
    assert kernel_version_code((6, 18, 44)) == (6 << 16) + (18 << 8) + 44
    assert kernel_version_code((4, 19, 300)) == (4 << 16) + (19 << 8) + 255


def test_from_file_reads_the_probe_format_and_ignores_unknown_keys(tmp_path):
    (tmp_path / "vmlinux.btf").write_bytes(b"")
    path = tmp_path / "probe.json"
    path.write_text(json.dumps({"release": "6.18.44-x", "version": "6.18.44", "arch": "arm64",
                                "kconfig": {"CONFIG_HZ": "100", "CONFIG_KPROBES": "y"}, "btf": "vmlinux.btf",
                                "helpers": {"xdp": [1, 2]}}))
    t = Target.from_file(path)
    assert (t.release, t.version, t.arch) == ("6.18.44-x", (6, 18, 44), "arm64")
    assert t.kconfig["CONFIG_HZ"] == "100" and t.kconfig_source == str(path)
    assert t.btf_path == str(tmp_path / "vmlinux.btf")           # relative to the file
    assert Target.from_file(path, btf_path="/other.btf").btf_path == "/other.btf"   # configured wins


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "not JSON"), ("[1]", "must be a JSON object"), ('{"arch": "x86"}', 'no usable "version"'),
    ('{"version": "6.1", "kconfig": {"CONFIG_HZ": 100}}', "kconfig"), ('{"version": "6.1", "btf": 3}', "btf")])
def test_from_file_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        Target.from_file(path)
    assert str(path) in str(info.value)


def test_kconfig_is_read_lazily_from_plain_or_gzip(tmp_path):
    text = "# comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x y\"\nCONFIG_D=0x10\n"
    gz = tmp_path / "config.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    cfg = Kconfig(path=str(gz))
    assert cfg._values is None                       # nothing read yet
    assert dict(cfg) == {"CONFIG_A": "y", "CONFIG_C": '"x y"', "CONFIG_D": "0x10"}
    missing = Kconfig(path=str(tmp_path / "nope"))
    assert len(missing) == 0 and missing.source == ""


def test_default_and_running_read_nothing_until_asked():
    d = Target.default()
    assert d.version == DEFAULT_VERSION and d.btf is None and len(d.kconfig) == 0 and d.ksym("x") is None
    r = Target.running()
    assert r.release == os.uname().release and r.arch == target_arch()
    assert "btf" not in r.__dict__ and "_symbols" not in r.__dict__   # cached_property not yet computed
    if r.btf_path:
        assert r.btf is r.btf                         # decoded once, cached on the instance


def test_wrapper_and_cookie_decisions(tmp_path):
    def target(kconfig, version="6.1"):
        path = tmp_path / "t.json"
        path.write_text(json.dumps({"version": version, "arch": "x86", "kconfig": kconfig}))
        return Target.from_file(path)

    assert target({"CONFIG_KPROBES": "y", "CONFIG_ARCH_HAS_SYSCALL_WRAPPER": "y"}).syscall_wrapper[0] is True
    assert target({"CONFIG_ARCH_HAS_SYSCALL_WRAPPER": "y"}).syscall_wrapper[0] is False   # no kprobes
    assert target({}, "4.14").syscall_wrapper[0] is False and target({}, "5.4").syscall_wrapper[0] is True
    assert target({}, "5.10").bpf_cookie[0] is False and target({}, "5.15").bpf_cookie[0] is True


def test_resolve_a_setting(tmp_path):
    assert Target.resolve().name == "running" and Target.resolve("default").name == "default"
    assert Target.resolve("5.15").version == (5, 15, 0)
    path = tmp_path / "p.json"
    path.write_text('{"version": "6.6.3"}')
    assert Target.resolve(str(path)).version == (6, 6, 3)
    btf = tmp_path / "k.btf"
    btf.write_bytes(b"")
    assert Target.resolve("5.10", btf_path=str(btf)).btf_path == str(btf)
    with pytest.raises(ConfigError, match="not 'running'"):
        Target.resolve("jammy")
    with pytest.raises(ConfigError, match="cannot be read"):
        Target.resolve(None, btf_path=str(tmp_path / "missing.btf"))
