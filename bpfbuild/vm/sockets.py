"""The sockets a program can look up (``world.sockets``), and the lookup helpers, as Linux
6.18 implements them (net/core/filter.c).

A socket is written from its own side: ``src`` / ``sport`` is its local address and port,
``dst`` / ``dport`` its peer (absent for a listening or unconnected socket):

    sockets = [
      { protocol = "tcp", state = "listen", src = "10.0.0.2", sport = 80 },
      { protocol = "tcp", src = "10.0.0.2", sport = 80, dst = "10.0.0.1", dport = 40000 },
      { protocol = "udp", src = "0.0.0.0", sport = 53 },
    ]

``state`` defaults to ``established`` for a TCP socket with a peer, ``listen`` for one
without; UDP sockets are ``close`` (unconnected) or ``established`` (connected).  ``mark``,
``priority``, ``bound_dev_if`` and ``cookie`` are optional.

``bpf_sk_lookup_tcp`` / ``_udp`` and ``bpf_skc_lookup_tcp`` take a ``struct bpf_sock_tuple``
from the packet's side (``saddr``/``sport`` the peer, ``daddr``/``dport`` the local end): a
tuple size other than 12 (IPv4) or 36 (IPv6) bytes, flags, or another network namespace
(``netns`` >= 0) give NULL.  TCP finds an established socket with exactly that 4-tuple, else a
listener on the local address (or the wildcard address) and port; UDP prefers a connected
socket, then one bound to the local address, then the wildcard.  The result points to a
read-only ``struct bpf_sock`` of the socket; ``bpf_sk_release`` returns 0;
``bpf_sk_fullsock`` returns its argument (every socket of the table is a full socket); for
any other socket (a packet's own ``skb->sk``) both are not emulated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpfbuild.errors import NotEmulated
from bpfbuild.vm.memory import RegionKind, Trap
from bpfbuild.vm.socktable import find_socket, sock_tuple

if TYPE_CHECKING:
    from bpfbuild.vm.runtime import Runtime

__all__ = ["SOCKET_HELPERS"]

_M64 = (1 << 64) - 1


# --- lookups ---------------------------------------------------------------------------------

def _lookup(rt: Runtime, tup: int, size: int, netns: int, flags: int, protocol: int) -> int:
    size &= 0xFFFFFFFF
    if size not in (12, 36):
        return 0
    netns &= _M64
    signed_ns = netns & 0xFFFFFFFF
    signed_ns = signed_ns - (1 << 32) if signed_ns >> 31 else signed_ns
    if flags or not (signed_ns < 0 or netns <= 0x7FFFFFFF):
        return 0
    if signed_ns >= 0:
        return 0   # get_net_ns_by_id(): the emulator has only the current network namespace
    session = rt.session
    peer, pport, local, lport = sock_tuple(rt.memory.read(tup, size, "read of the socket tuple"))
    index = find_socket(session.sockets, protocol, peer, pport, local, lport)
    if index is None:
        return 0
    return _object(rt, index)


def _object(rt: Runtime, index: int) -> int:
    """The address of socket ``index``'s struct bpf_sock (mapped once per session)."""
    objects = rt.session.socket_objects
    addr = objects.get(index)
    if addr is None:
        data = bytearray(rt.session.sockets[index].bpf_sock())
        addr = objects[index] = rt.memory.map(data, RegionKind.KERNEL, f"socket {index}", writable=False)
    return addr


def sk_lookup_tcp(rt: Runtime, ctx: int, tup: int, size: int, netns: int, flags: int) -> int:
    return _lookup(rt, tup, size, netns, flags, 6)


def skc_lookup_tcp(rt: Runtime, ctx: int, tup: int, size: int, netns: int, flags: int) -> int:
    return _lookup(rt, tup, size, netns, flags, 6)


def sk_lookup_udp(rt: Runtime, ctx: int, tup: int, size: int, netns: int, flags: int) -> int:
    return _lookup(rt, tup, size, netns, flags, 17)


def _check_socket(rt: Runtime, sk: int, name: str) -> None:
    if sk not in rt.session.socket_objects.values():
        if rt.memory.region_of(sk) is None:
            raise Trap(f"bpf_{name}: {sk:#x} is not a socket")
        raise NotEmulated(f"bpf_{name} of a socket no lookup of world.sockets returned")


def sk_release(rt: Runtime, sk: int, *_: int) -> int:
    _check_socket(rt, sk, "sk_release")
    return 0


def sk_fullsock(rt: Runtime, sk: int, *_: int) -> int:
    _check_socket(rt, sk, "sk_fullsock")
    return sk


#: helper implementations (named as the helpers without ``bpf_``)
SOCKET_HELPERS = (sk_lookup_tcp, skc_lookup_tcp, sk_lookup_udp, sk_release, sk_fullsock)
