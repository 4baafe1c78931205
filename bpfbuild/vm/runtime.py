"""What a helper may use of the machine that runs it: the :class:`Runtime` protocol
(:class:`bpfbuild.vm.machine.Runtime` provides it).  Its own module, so that the helper
modules (helpers, dynptr, tracing, timers, cgroup, kfuncs) share it without importing
each other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from bpfbuild.vm.context import ContextState
from bpfbuild.vm.maps import Map
from bpfbuild.vm.memory import Memory
from bpfbuild.vm.session import Session

__all__ = ["Runtime"]


class Runtime(Protocol):
    """What a helper may use of the machine that runs it (:class:`bpfbuild.vm.machine.Runtime`
    provides it); a Protocol, so that helpers never import the machine that calls them."""

    session: Session
    memory: Memory
    state: ContextState | None
    redirect: tuple[Any, ...] | None
    ring_records: dict[int, Any]
    cg_retval: int

    def code_at(self, ptr: int) -> Callable[..., int]: ...
    def effect(self, record: dict[str, Any]) -> None: ...
    def map_at(self, ptr: int) -> Map: ...
    def printk(self, text: bytes) -> None: ...
    def read_kernel_bytes(self, addr: int, size: int) -> bytes | None: ...
    def read_kernel_string(self, addr: int, limit: int) -> bytes | None: ...
    def read_string(self, addr: int, limit: int, kind: str = "s") -> bytes | None: ...
    def read_user_bytes(self, addr: int, size: int) -> bytes | None: ...
    def read_user_string(self, addr: int, limit: int) -> bytes | None: ...
