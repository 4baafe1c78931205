"""Skeletons in the kernel: loaders written against bpftool's skeleton behave the same with ours,
and the Python skeleton loads, attaches (loopback only) and reads globals and maps.

Every test detaches and destroys what it loaded (the skeletons' destroy, ``with`` blocks).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from bpfbuild.errors import KernelError
from bpfbuild.skel.generate import c_header, python_module, skeleton_from_file

from .test_python_skel import load_module
from .tools import DATA, REPO, bpftool_skeleton, gcc

pytestmark = pytest.mark.kernel


def run_loader(tmp: Path, loader: str, skel_name: str, header: str, *args: str) -> subprocess.CompletedProcess[str]:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / f"{skel_name}.skel.h").write_text(header)
    exe = tmp / "loader"
    res = subprocess.run([gcc(), "-Wall", "-Werror", "-I", str(tmp), str(DATA / loader), "-o", str(exe), "-lbpf"],
                         check=False, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return subprocess.run([str(exe), *args], check=False, capture_output=True, text=True, timeout=60)


def same_behaviour(tmp: Path, obj: Path, loader: str, skel_name: str, *args: str) -> str:
    ours = run_loader(tmp / "ours", loader, skel_name, c_header(skeleton_from_file(obj)), *args)
    theirs = run_loader(tmp / "bpftool", loader, skel_name, bpftool_skeleton(obj), *args)
    assert theirs.returncode == 0, theirs.stderr
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout), ours.stderr
    return ours.stdout


def test_hello_loader(program_objects: dict[str, Path], tmp_path: Path) -> None:
    out = same_behaviour(tmp_path, program_objects["hello"], "hello_loader.c", "hello")
    assert out == "before=0 increased=yes\n"


def test_hash_map_and_rodata_loader(port_count: Path, tmp_path: Path) -> None:
    port = str(random.randint(20000, 60000))
    out = same_behaviour(tmp_path, port_count, "port_count_loader.c", "port_count", port)
    assert out == f"watch_port default=0\nwatch_port={port} hits=3 other=0 udp_seen>=5:yes\n"


def test_core_program_loads_and_reads_task_struct(program_objects: dict[str, Path], tmp_path: Path) -> None:
    out = same_behaviour(tmp_path, program_objects["core_task"], "core_task_loader.c", "core_task")
    assert out == "parent_matches=yes calls>=1:yes\n"


def test_core_program_without_vmlinux_h(compile_bpf, tmp_path: Path) -> None:
    """The fallback declarations give a program libbpf relocates the same way."""
    src = tmp_path / "core_task.bpf.c"
    src.write_text("#define CORE_TASK_NO_VMLINUX 1\n" + (REPO / "programs" / "core_task.bpf.c").read_text())
    obj = compile_bpf(src)
    out = run_loader(tmp_path / "run", "core_task_loader.c", "core_task", c_header(skeleton_from_file(obj)))
    assert (out.returncode, out.stdout) == (0, "parent_matches=yes calls>=1:yes\n"), out.stderr


# -- Python skeletons ------------------------------------------------------------------------------


def python_skeleton(obj: Path, tmp: Path, module: str) -> ModuleType:
    return load_module(tmp / f"{module}.py", python_module(skeleton_from_file(obj)))


def udp_roundtrip() -> None:
    """One UDP packet over loopback to a socket of our own (nothing else answers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5)
        tx.sendto(b"ping", rx.getsockname())
        assert rx.recv(16) == b"ping"


def test_python_hello_on_loopback(program_objects: dict[str, Path], tmp_path: Path) -> None:
    mod = python_skeleton(program_objects["hello"], tmp_path, "hello_skel_k")
    with mod.HelloBpf.open_and_load() as skel:
        assert skel.bss.counter == 0
        link = skel.progs.hello.attach_xdp("lo")
        assert skel.links.hello is link
        udp_roundtrip()
        assert skel.bss.counter >= 1
        skel.bss.counter = 1000                    # .bss is writable after load
        assert skel.bss.counter >= 1000
    assert skel.links.hello is None
    with pytest.raises(KernelError, match="destroyed"):
        _ = skel.bss.counter


def test_python_rodata_and_hash_map(port_count: Path, tmp_path: Path) -> None:
    mod = python_skeleton(port_count, tmp_path, "port_count_skel_k")
    port = random.randint(20000, 60000)
    with mod.PortCountBpf.open() as skel:
        assert skel.rodata.watch_port == 0
        skel.rodata.watch_port = port              # before load: the initial value
        skel.load()
        assert skel.rodata.watch_port == port
        with pytest.raises(KernelError, match="read-only"):
            skel.rodata.watch_port = 1
        skel.progs.port_count.attach_xdp("lo")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for _ in range(3):
                tx.sendto(b"x", ("127.0.0.1", port))
            tx.sendto(b"x", ("127.0.0.1", port + 1))
        hits = skel.maps.port_hits
        assert hits[port] == 3 and port in hits and port + 1 not in hits
        assert dict(hits.items()) == {port: 3}
        hits[port + 1] = 7                         # typed update and delete through the map
        assert hits.lookup(port + 1) == 7
        del hits[port + 1]
        assert hits.lookup(port + 1) is None
        assert skel.bss.udp_seen >= 4
        skel.detach()
        assert skel.links.port_count is None


def test_python_core_task(program_objects: dict[str, Path], tmp_path: Path) -> None:
    mod = python_skeleton(program_objects["core_task"], tmp_path, "core_task_skel_k")
    with mod.CoreTaskBpf.open() as skel:
        skel.rodata.target_tgid = os.getpid()
        skel.load()
        assert skel.rodata.target_tgid == os.getpid()
        if not hasattr(skel.progs.core_task.prog, "attach"):
            pytest.skip("bpfbuild.kernel has no Program.attach() yet: tracepoint auto-attach unavailable")
        skel.attach()
        os.getppid()
        assert skel.bss.parent_tgid == os.getppid() and skel.bss.calls >= 1
