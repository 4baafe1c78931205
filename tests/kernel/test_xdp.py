"""XDP end to end: hello on loopback sees real packets, prints through bpf_printk, counts in .bss.

Safety: only ``lo`` and a veth pair created here are touched; every attachment is a BPF
link (detached when its fd closes, even if this process dies) and is detached in the test.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from bpfbuild.errors import KernelError
from bpfbuild.kernel import KernelObject, TracePipe, VethPair, attach_xdp, interface, xdp_prog_id

pytestmark = pytest.mark.kernel


def _send_udp(count: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.bind(("127.0.0.1", 0))
        for i in range(count):
            tx.sendto(f"packet {i}".encode(), rx.getsockname())
            time.sleep(0.01)


def test_hello_on_loopback_prints_and_counts(objects: dict[str, Path], pin_dir: Path) -> None:
    if xdp_prog_id("lo") is not None:
        pytest.skip("loopback already has an XDP program (another test run?)")
    with KernelObject.open(objects["hello"]) as obj, TracePipe() as pipe:
        obj.load()
        prog = obj.program()
        prog_id = prog.info().id
        pipe.drain()
        with attach_xdp(prog.fd, "lo") as attachment:
            assert attachment.attached
            assert xdp_prog_id("lo") == prog_id
            _send_udp(3)
            lines = pipe.read(timeout=5.0, marker="Hello World", count=2)
            count = int.from_bytes(obj.map(".bss").handle().lookup(0) or b"", "little")
        assert xdp_prog_id("lo") is None
    messages = [line.message for line in lines]
    assert messages[:2] == ["Hello World 0", "Hello World 1"]
    assert count >= 3                          # every packet on lo passes through it (ours and others')
    assert list(pin_dir.iterdir()) == []


def test_veth_pair_attach_and_detach_by_link_and_netlink(objects: dict[str, Path]) -> None:
    with KernelObject.open(objects["hello"]) as obj:
        obj.load()
        prog = obj.program()
        prog_id = prog.info().id
        with VethPair() as veth:
            assert interface(veth.name).kind == "veth"
            with attach_xdp(prog.fd, veth.name):
                assert xdp_prog_id(veth.name) == prog_id
            assert xdp_prog_id(veth.name) is None
            with attach_xdp(prog.fd, veth.peer, link=False):
                assert xdp_prog_id(veth.peer) == prog_id
                with pytest.raises(KernelError, match="cannot attach"):
                    attach_xdp(prog.fd, veth.peer, link=False)       # never replaces a program
            assert xdp_prog_id(veth.peer) is None
        assert not os.path.exists(f"/sys/class/net/{veth.name}")


def test_refuses_real_interfaces(objects: dict[str, Path]) -> None:
    real = [n for n in os.listdir("/sys/class/net")
            if n != "lo" and interface(n).kind is None and not interface(n).loopback]
    if not real:
        pytest.skip("no physical-looking interface to refuse")
    with KernelObject.open(objects["hello"]) as obj:
        obj.load()
        before = xdp_prog_id(real[0])
        with pytest.raises(KernelError, match=f"refusing to attach XDP to {real[0]}"):
            attach_xdp(obj.program().fd, real[0])
        assert xdp_prog_id(real[0]) == before
