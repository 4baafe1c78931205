"""availability(), the mount table, bpffs detection."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.kernel import env

MOUNTS = """\
sysfs /sys sysfs rw 0 0
/dev/vda / ext4 rw 0 0
bpf /sys/fs/bpf bpf rw 0 0
tmpfs /sys/fs/bpf/inner tmpfs rw 0 0
none /mnt/with\\040space tmpfs rw 0 0
"""


@pytest.fixture
def fake_mounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "mounts"
    path.write_text(MOUNTS)
    monkeypatch.setattr(env, "_PROC_MOUNTS", str(path))
    return path


def test_mount_table_unescapes_octal(fake_mounts: Path) -> None:
    targets = [m.target for m in env.mounts()]
    assert "/mnt/with space" in targets
    assert env.mounts()[2] == env.Mount("bpf", "/sys/fs/bpf", "bpf")


def test_fs_type_is_the_longest_mount_prefix(fake_mounts: Path) -> None:
    assert env.fs_type("/sys/fs/bpf/project/hello") == "bpf"
    assert env.fs_type("/sys/fs/bpf") == "bpf"
    assert env.fs_type("/sys/fs/bpf/inner/x") == "tmpfs"
    assert env.fs_type("/sys/fs/bpfx") == "sysfs"        # a prefix of the name is not a parent
    assert env.fs_type("/home") == "ext4"


def test_missing_proc_mounts_means_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(env, "_PROC_MOUNTS", str(tmp_path / "absent"))
    assert env.mounts() == ()
    assert env.fs_type("/sys/fs/bpf") is None


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_unescape_never_raises(text: str) -> None:
    assert isinstance(env._unescape(text), str)


@pytest.mark.kernel
def test_available_as_root_with_bpffs_mounted() -> None:
    assert env.availability() is None
    assert env.fs_type(env.BPFFS_ROOT) == "bpf"
    env.require()


@pytest.mark.kernel
def test_tracefs_has_a_trace_pipe() -> None:
    assert (env.ensure_tracefs() / "trace_pipe").exists()


def test_missing_libbpf_is_one_clear_line() -> None:
    from bpfbuild.errors import KernelError
    from bpfbuild.kernel import _ffi

    with pytest.raises(KernelError, match=r"^libbpf-missing\.so\.9 not found \(install libbpf1\)"):
        _ffi.open_libbpf("libbpf-missing.so.9")
