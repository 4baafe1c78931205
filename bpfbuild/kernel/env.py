"""Can this process use the kernel?  libbpf, bpf() permission, bpffs and tracefs.

:func:`availability` answers with ``None`` (usable) or the one line a user needs; the CLI
prints it and exits 2, the ``kernel`` tests skip with it.  Mounting is the only side effect:
bpffs at /sys/fs/bpf and tracefs at /sys/kernel/tracing are mounted when absent (as root
can, and as bpftool does for bpffs).
"""

from __future__ import annotations

import ctypes
import errno
import os
from dataclasses import dataclass
from pathlib import Path

from bpfbuild.errors import KernelError
from bpfbuild.kernel import _ffi

__all__ = [
    "BPFFS_ROOT",
    "Mount",
    "availability",
    "ensure_bpffs",
    "ensure_tracefs",
    "fs_type",
    "mounts",
    "require",
]

BPFFS_ROOT = "/sys/fs/bpf"
TRACEFS_DIRS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
_PROC_MOUNTS = "/proc/self/mounts"

BPF_PROG_TYPE_SOCKET_FILTER = 1
# r0 = 0; exit  (the smallest program the kernel accepts: the permission probe)
_PROBE_INSNS = bytes.fromhex("b700000000000000" "9500000000000000")


@dataclass(frozen=True, slots=True)
class Mount:
    source: str
    target: str
    fstype: str


def _unescape(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as \ooo
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit() and len(field[i + 1:i + 4]) == 3:
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mounts() -> tuple[Mount, ...]:
    """The mount table of this process (empty if /proc is unavailable)."""
    try:
        text = Path(_PROC_MOUNTS).read_text()
    except OSError:
        return ()
    table = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            table.append(Mount(_unescape(parts[0]), _unescape(parts[1]), parts[2]))
    return tuple(table)


def fs_type(path: str | os.PathLike[str]) -> str | None:
    """The file system type of the mount that holds ``path`` (the last, longest match wins)."""
    target = os.path.abspath(path)
    best: Mount | None = None
    for m in mounts():
        mp = m.target.rstrip("/") or "/"
        holds = target == mp or target.startswith(mp + "/") or mp == "/"
        if holds and (best is None or len(mp) >= len(best.target.rstrip("/") or "/")):
            best = m
    return best.fstype if best else None


def _mount(source: str, target: str, fstype: str) -> None:
    libc = _ffi.libc()
    if libc.mount(source.encode(), target.encode(), fstype.encode(), 0, None) != 0:
        err = ctypes.get_errno()
        raise KernelError(f"cannot mount {fstype} at {target}: {_ffi.explain(err)}", errno=err)


def ensure_bpffs(root: str = BPFFS_ROOT) -> str:
    """Make sure ``root`` is on a bpffs, mounting one there if it is an empty mount point."""
    if fs_type(root) == "bpf":
        return root
    if not os.path.isdir(root):
        raise KernelError(f"no bpffs: {root} does not exist", errno=errno.ENOENT)
    try:
        _mount("bpf", root, "bpf")
    except KernelError as exc:
        raise KernelError(f"no bpffs at {root}, and {exc}", errno=exc.errno) from None
    return root


def ensure_tracefs() -> Path:
    """The tracefs directory (holding ``trace_pipe``), mounting tracefs when neither is there."""
    for d in TRACEFS_DIRS:
        if os.path.exists(os.path.join(d, "trace_pipe")):
            return Path(d)
    first = TRACEFS_DIRS[0]
    if os.path.isdir(first):
        try:
            _mount("nodev", first, "tracefs")
        except KernelError as exc:
            raise KernelError(f"no tracefs (trace_pipe), and {exc}", errno=exc.errno) from None
    if os.path.exists(os.path.join(first, "trace_pipe")):
        return Path(first)
    raise KernelError("no tracefs: neither /sys/kernel/tracing nor /sys/kernel/debug/tracing has trace_pipe")


def _cap_effective() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


_CAP_SYS_ADMIN, _CAP_BPF = 21, 39


def _probe_bpf() -> str | None:
    """Load the two-instruction socket filter: the same permission check a real load meets."""
    lib = _ffi.libbpf()
    insns = ctypes.create_string_buffer(_PROBE_INSNS, len(_PROBE_INSNS))
    fd = lib.bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, None, b"GPL", insns, 2, None)
    if fd >= 0:
        os.close(fd)
        return None
    err = _ffi.errno_of(fd)
    if err in (errno.EPERM, errno.EACCES):
        privileged = _cap_effective() & (1 << _CAP_BPF | 1 << _CAP_SYS_ADMIN)
        if not privileged and os.geteuid() != 0:
            return "not root: the bpf() syscall needs root or CAP_BPF (with CAP_PERFMON/CAP_NET_ADMIN)"
        if not privileged:
            return "no CAP_BPF or CAP_SYS_ADMIN in this process: the bpf() syscall needs them"
        return f"bpf() not permitted: {os.strerror(err)} (seccomp, lockdown or a container policy?)"
    if err == errno.ENOSYS:
        return "bpf() syscall not available in this kernel"
    return f"bpf() failed: {os.strerror(err)}"


def availability() -> str | None:
    """None when the kernel bridge is usable, else the one-line reason.

    Checks, in order: libbpf.so.1 loads; a trivial BPF_PROG_LOAD is permitted (root or
    CAP_BPF); a bpffs is at /sys/fs/bpf (mounted here if absent and permitted).
    """
    try:
        _ffi.libbpf()
    except KernelError as exc:
        return str(exc)
    reason = _probe_bpf()
    if reason is not None:
        return reason
    try:
        ensure_bpffs()
    except KernelError as exc:
        return str(exc)
    return None


def require() -> None:
    """Raise KernelError with :func:`availability`'s reason when the kernel is not usable."""
    reason = availability()
    if reason is not None:
        raise KernelError(reason)
