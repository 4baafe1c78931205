"""The emulator: runs eBPF programs as the Linux 6.18 kernel would, without a kernel.

* :mod:`~bpfbuild.vm.compiler` - instructions -> Python, translated once and cached.
* :mod:`~bpfbuild.vm.memory` - the address space: disjoint, bounds-checked regions.
* :mod:`~bpfbuild.vm.maps` - maps with the kernel's semantics.
* :mod:`~bpfbuild.vm.helpers` - helper functions; :mod:`~bpfbuild.vm.printk` - bpf_printk.
* :mod:`~bpfbuild.vm.context` - contexts per program type (XDP, skb, tracing...).
* :mod:`~bpfbuild.vm.session` - state that outlives a run: maps, printk lines, inputs.
* :mod:`~bpfbuild.vm.machine` - :class:`Machine`, :class:`RunResult`, :func:`run_bytecode`.
"""

from bpfbuild.errors import VMError
from bpfbuild.vm.context import (
    ArgsContext,
    Context,
    KprobeContext,
    RawContext,
    SkbContext,
    TracepointContext,
    XdpContext,
)
from bpfbuild.vm.machine import DEFAULT_BUDGET, LoadedProgram, Machine, RunResult, run_bytecode
from bpfbuild.vm.maps import Map
from bpfbuild.vm.session import Session

__all__ = [
    "DEFAULT_BUDGET",
    "ArgsContext",
    "Context",
    "KprobeContext",
    "LoadedProgram",
    "Machine",
    "Map",
    "RawContext",
    "RunResult",
    "Session",
    "SkbContext",
    "TracepointContext",
    "VMError",
    "XdpContext",
    "run_bytecode",
]
