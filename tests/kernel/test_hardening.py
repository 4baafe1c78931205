"""Kernel commands under faults (issue 15): unload never crosses a mount point, pin paths under a
pin / symlinks / mount roots give one line, load refuses a malformed object before libbpf."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel


def _mount_tmpfs(target: Path) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.mount(b"none", os.fsencode(target), b"tmpfs", 0, None) != 0:
        pytest.skip(f"cannot mount a tmpfs: {os.strerror(ctypes.get_errno())}")


def _umount(target: Path) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.umount2(os.fsencode(target), 2)   # MNT_DETACH


def test_unload_dir_keeps_a_mount_inside_it_and_says_so(cli, objects, pin_dir):
    pins = pin_dir / "app"
    code, _, err = cli("load", str(objects["hello"]), "--all", str(pins))
    assert code == 0, err
    inner = pins / "mnt"
    inner.mkdir()
    _mount_tmpfs(inner)
    try:
        precious = inner / "precious.txt"
        precious.write_text("user data")
        code, _, err = cli("unload", str(pins))
        assert code != 0 and len(err.strip().splitlines()) == 1, err
        assert "mount point" in err
        assert precious.read_text() == "user data"
        assert not [p for p in pins.iterdir() if p != inner]    # the pins went, the mount stayed
    finally:
        _umount(inner)
    code, _, err = cli("unload", str(pins))
    assert code == 0, err
    assert not pins.exists()


def test_unload_of_a_symlink_removes_the_link_only(cli, objects, pin_dir):
    code, _, err = cli("load", str(objects["hello"]), "--all", str(pin_dir / "app"))
    assert code == 0, err
    link = pin_dir / "link"
    link.symlink_to(pin_dir / "app")
    code, _, err = cli("unload", str(link))
    assert code == 0, err
    assert not link.exists() and (pin_dir / "app").is_dir() and list((pin_dir / "app").iterdir())


def test_a_pin_path_under_a_pin_is_one_line(cli, objects, pin_dir):
    code, _, err = cli("load", str(objects["hello"]), str(pin_dir / "p"))
    assert code == 0, err
    code, _, err = cli("load", str(objects["hello"]), str(pin_dir / "p" / "below"))
    assert code != 0 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_unload_of_the_bpffs_root_is_refused(cli, requires_kernel):
    code, _, err = cli("unload", "/sys/fs/bpf")
    assert code != 0 and "mount point" in err and len(err.strip().splitlines()) == 1
    assert Path("/sys/fs/bpf").is_dir()


def test_load_refuses_a_malformed_object_before_libbpf(cli, objects, tmp_path, pin_dir):
    data = bytearray(objects["hello"].read_bytes())
    data[0x3C:0x3E] = b"\0\0"    # e_shnum = 0
    bad = tmp_path / "bad.bpf.o"
    bad.write_bytes(bytes(data))
    code, _, err = cli("load", str(bad), str(pin_dir / "x"))
    assert code != 0 and err.strip() == f"{bad}: cannot open the object: the object has no section headers (e_shnum is 0)"
    fifo = tmp_path / "fifo.o"
    os.mkfifo(fifo)
    code, _, err = cli("load", str(fifo), str(pin_dir / "y"))
    assert code != 0 and "not a regular file" in err


@pytest.mark.parametrize("argv", [["prog", "show"], ["map", "show"], ["load", "OBJ", "/sys/fs/bpf/hardening_x"],
                                  ["unload", "/sys/fs/bpf/hardening_x"], ["prog", "dump", "xlated", "id", "1"]])
def test_kernel_commands_without_capabilities_give_one_line(objects, argv):
    import shutil
    import subprocess
    import sys

    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to drop capabilities")
    argv = [str(objects["hello"]) if a == "OBJ" else a for a in argv]
    res = subprocess.run(["setpriv", "--bounding-set=-all", "--inh-caps=-all", sys.executable, "-m", "bpfbuild",
                          *argv], capture_output=True, text=True, env={**os.environ}, timeout=120, check=False)
    assert res.returncode != 0
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr, res.stderr
    assert "CAP_BPF" in res.stderr


BAD_PINS = ["{d}/p/below", "/tmp/not-bpffs-{n}/p", "{d}/with.dot", "{d}/" + "n" * 300, "{d}/missing/deeper/p",
            "{d}", "/sys/fs/bpf", "{d}/../" + "x" * 5, "relative/p"]


@pytest.mark.parametrize("pattern", BAD_PINS)
def test_load_and_unload_at_bad_pin_paths_give_one_line_or_work(cli, objects, pin_dir, pattern):
    code, _, err = cli("load", str(objects["hello"]), str(pin_dir / "p"))
    assert code == 0, err
    target = pattern.format(d=pin_dir, n=os.getpid())
    for argv in (["load", str(objects["hello"]), target], ["unload", target]):
        if argv[0] == "unload" and target in ("/sys/fs/bpf",):
            continue   # covered above; never try to empty the bpffs root here
        code, _, err = cli(*argv)
        if code != 0:
            assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (argv, err)
    if pattern == "{d}/../" + "x" * 5 and Path(target).exists():
        cli("unload", target)
