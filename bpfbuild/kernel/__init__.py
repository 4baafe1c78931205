"""The kernel bridge: libbpf (``libbpf.so.1``) through ctypes -- load, inspect, pin, run, attach.

Only this package imports ctypes or talks to the kernel.  It needs root (or CAP_BPF);
:func:`availability` says why not, in one line (the CLI prints it and exits 2, ``kernel``
tests skip with it).  Every fd is owned by a context manager (``KernelObject``, ``Fd``,
``MapHandle``, ``XdpAttachment``, ``TracePipe``, ``PinDir``) and closed on exit.

Stable API for the other layers (the verifier and emulator cross-check against these):

``verdict(obj, prog_name=None, *, log_level=1, rodata=None) -> Verdict``
    Load one program of ``obj`` (a path or the ELF bytes) and return the kernel's verdict:
    ``accepted``, ``log`` (kept even on success), ``error_line`` (the kernel's last message),
    ``insn`` (failing instruction, slot index), ``source_line`` / ``source`` (the ``; text @
    file:line`` the kernel printed for it, from BTF line info), ``processed_insns``,
    ``verification_time_usec`` (when log_level & 4), ``errno``.

``test_run(obj, prog_name=None, *, packet=b"", ctx=None, repeat=1, rodata=None, maps=None) -> RunResult``
    Load, seed maps (``{"hello.bss" or ".bss": {key: value}}``), BPF_PROG_TEST_RUN, read maps:
    ``retval`` (low 32 bits of r0), ``packet_out``, ``ctx_out``, ``duration_ns`` (mean per
    run), ``maps_after`` (``{map name: [(key, value), ...]}``).

``verdict_insns(code, prog_type, *, log_level=1) -> Verdict`` and
``test_run_insns(code, prog_type, *, packet=b"", ctx=None, repeat=1) -> RunResult``
    The same for bare instructions (bytes of 8-byte slots, e.g. ``isa.encode(isa.assemble(text))``),
    no ELF and no maps; ``prog_type`` is a number (``abi.ProgType``) or libbpf's name ("xdp").

All of them open, load, run and close everything before returning.

Lower layers, for tools and tests::

    with KernelObject.open(path_or_bytes) as obj:          # libbpf bpf_object
        obj.set_globals(".rodata", {"var": 1}); obj.load(log_level=1)
        prog = obj.program("hello"); prog.log; prog.info(); prog.images(); prog.pin(p)
        prog.test_run(packet); obj.map(".bss").handle().items()
    with PinDir() as d: ...                                 # per-run bpffs subdirectory
    with attach_xdp(prog.fd, "lo"): ...                     # loopback or a veth only
    with TracePipe() as tp: tp.read(timeout=2, marker="Hello")
    prog_info(fd) / map_info(fd) / prog_images(fd); find_progs("name", "hello")
"""

from bpfbuild.kernel.env import availability, ensure_bpffs, ensure_tracefs, require
from bpfbuild.kernel.fd import Fd
from bpfbuild.kernel.hooks import RunResult, Verdict, test_run, test_run_insns, verdict, verdict_insns
from bpfbuild.kernel.info import (
    BtfInfo,
    FuncInfo,
    LineInfo,
    MapInfo,
    ObjKind,
    ProgImages,
    ProgInfo,
    btf_info,
    find_maps,
    find_progs,
    ids,
    map_info,
    open_by_id,
    open_pinned,
    pinned_ids,
    prog_images,
    prog_info,
)
from bpfbuild.kernel.maps import MapHandle
from bpfbuild.kernel.objects import KernelObject, Link, Map, Program, parse_log_error
from bpfbuild.kernel.pins import PinDir, pin_fd, remove_pins, sweep_stale, unpin
from bpfbuild.kernel.rawload import RawLoad, load_insns
from bpfbuild.kernel.testrun import TestRun, run_prog
from bpfbuild.kernel.trace import TraceLine, TracePipe
from bpfbuild.kernel.xdp import (
    Interface,
    VethPair,
    XdpAttachment,
    XdpMode,
    attach_xdp,
    interface,
    xdp_prog_id,
)

__all__ = [
    "BtfInfo",
    "Fd",
    "FuncInfo",
    "Interface",
    "KernelObject",
    "LineInfo",
    "Link",
    "Map",
    "MapHandle",
    "MapInfo",
    "ObjKind",
    "PinDir",
    "ProgImages",
    "ProgInfo",
    "Program",
    "RawLoad",
    "RunResult",
    "TestRun",
    "TraceLine",
    "TracePipe",
    "Verdict",
    "VethPair",
    "XdpAttachment",
    "XdpMode",
    "attach_xdp",
    "availability",
    "btf_info",
    "ensure_bpffs",
    "ensure_tracefs",
    "find_maps",
    "find_progs",
    "ids",
    "interface",
    "load_insns",
    "map_info",
    "open_by_id",
    "open_pinned",
    "parse_log_error",
    "pin_fd",
    "pinned_ids",
    "prog_images",
    "prog_info",
    "remove_pins",
    "require",
    "run_prog",
    "sweep_stale",
    "test_run",
    "test_run_insns",
    "unpin",
    "verdict",
    "verdict_insns",
    "xdp_prog_id",
]
