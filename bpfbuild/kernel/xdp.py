"""Attach XDP programs, for end-to-end tests, to loopback or to a veth pair created here.

Safety: :func:`attach_xdp` refuses any interface that is not a loopback or a veth.  By
default it attaches through a BPF link (``bpf_link_create``, ``BPF_XDP``): the program is
detached when the link fd closes, so even a crashed process leaves nothing attached.  With
``link=False`` it uses netlink (``bpf_xdp_attach`` with UPDATE_IF_NOEXIST, never replacing
another program; ``bpf_xdp_detach`` with REPLACE, removing only ours).
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Self

from bpfbuild.errors import KernelError
from bpfbuild.kernel import _ffi
from bpfbuild.kernel.fd import Fd

__all__ = ["Interface", "VethPair", "XdpAttachment", "XdpMode", "attach_xdp", "interface", "xdp_prog_id"]

_IFF_LOOPBACK = 0x8


class XdpMode(Enum):
    """Where the program runs: generic (skb, works everywhere), native driver, or let the kernel pick."""

    SKB = _ffi.XDP_FLAGS_SKB_MODE
    DRV = _ffi.XDP_FLAGS_DRV_MODE
    AUTO = 0


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    index: int
    loopback: bool
    kind: str | None        # "veth", "bridge", ... (rtnetlink's info_kind), None for plain devices


def _ip() -> str:
    path = shutil.which("ip") or ("/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else None)
    if path is None:
        raise KernelError("the `ip` command (iproute2) is needed to inspect or create interfaces")
    return path


def _run_ip(*args: str) -> str:
    res = subprocess.run([_ip(), *args], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise KernelError(f"ip {' '.join(args)}: {res.stderr.strip() or f'exit {res.returncode}'}")
    return res.stdout


def interface(name: str) -> Interface:
    """Look up a network interface by name."""
    base = Path("/sys/class/net") / name
    try:
        index = int((base / "ifindex").read_text())
        flags = int((base / "flags").read_text(), 16)
    except (OSError, ValueError):
        raise KernelError(f"no network interface {name!r}") from None
    kind = None
    if not flags & _IFF_LOOPBACK:
        try:
            data = json.loads(_run_ip("-d", "-j", "link", "show", "dev", name))
            kind = data[0].get("linkinfo", {}).get("info_kind")
        except (ValueError, IndexError, AttributeError):
            kind = None
    return Interface(name=name, index=index, loopback=bool(flags & _IFF_LOOPBACK), kind=kind)


def xdp_prog_id(name: str) -> int | None:
    """The id of the XDP program attached to the interface (any mode), or None."""
    iface = interface(name)
    prog_id = ctypes.c_uint32(0)
    ret = _ffi.libbpf().bpf_xdp_query_id(iface.index, 0, ctypes.byref(prog_id))
    _ffi.check(ret, f"cannot query XDP on {name}")
    return prog_id.value or None


class XdpAttachment:
    """An XDP program attached to an interface; detached by :meth:`detach` / ``with`` exit."""

    def __init__(self, prog_fd: int | Fd, ifname: str, *, mode: XdpMode = XdpMode.SKB,
                 link: bool = True) -> None:
        iface = interface(ifname)
        if not (iface.loopback or iface.kind == "veth"):
            raise KernelError(f"refusing to attach XDP to {ifname}: only loopback or a veth pair is allowed")
        self.interface = iface
        self.mode = mode
        self._prog_fd = int(prog_fd)
        self._link: Fd | None = None
        self._netlink = False
        lib = _ffi.libbpf()
        if link:
            opts = _ffi.sized(_ffi.LinkCreateOpts, flags=mode.value)
            ret = lib.bpf_link_create(self._prog_fd, iface.index, _ffi.BPF_XDP, ctypes.byref(opts))
            _ffi.check(ret, f"cannot attach XDP to {ifname}")
            self._link = Fd(ret, f"xdp link on {ifname}")
        else:
            flags = mode.value | _ffi.XDP_FLAGS_UPDATE_IF_NOEXIST
            ret = lib.bpf_xdp_attach(iface.index, self._prog_fd, flags, None)
            _ffi.check(ret, f"cannot attach XDP to {ifname} (another program attached?)")
            self._netlink = True

    @property
    def attached(self) -> bool:
        return self._link is not None or self._netlink

    def detach(self) -> None:
        if self._link is not None:
            link, self._link = self._link, None
            link.close()
        if self._netlink:
            self._netlink = False
            opts = _ffi.sized(_ffi.XdpAttachOpts, old_prog_fd=self._prog_fd)
            ret = _ffi.libbpf().bpf_xdp_detach(self.interface.index, self.mode.value | _ffi.XDP_FLAGS_REPLACE,
                                               ctypes.byref(opts))
            _ffi.check(ret, f"cannot detach XDP from {self.interface.name}")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.detach()


def attach_xdp(prog_fd: int | Fd, ifname: str = "lo", *, mode: XdpMode = XdpMode.SKB,
               link: bool = True) -> XdpAttachment:
    """Attach an XDP program to loopback (default) or a veth; use as a context manager."""
    return XdpAttachment(prog_fd, ifname, mode=mode, link=link)


class VethPair:
    """A veth pair created for a test (both ends up), deleted on exit.

    ``with VethPair() as v: attach_xdp(fd, v.name)`` -- traffic sent into ``v.peer`` arrives on
    ``v.name``.
    """

    def __init__(self, prefix: str = "bpfb") -> None:
        tag = secrets.token_hex(3)
        self.name = f"{prefix}{tag}a"[:15]
        self.peer = f"{prefix}{tag}b"[:15]
        _run_ip("link", "add", self.name, "type", "veth", "peer", "name", self.peer)
        self._alive = True
        try:
            _run_ip("link", "set", self.name, "up")
            _run_ip("link", "set", self.peer, "up")
        except KernelError:
            self.delete()
            raise

    def delete(self) -> None:
        if self._alive:
            self._alive = False
            _run_ip("link", "del", self.name)   # deleting one end removes the pair

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.delete()
