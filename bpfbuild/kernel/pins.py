"""Pins on bpffs: pin an fd at a path, remove pins, and per-run pin directories.

A pin keeps a program (and its maps) alive after the process exits; removing the last pin
and closing the last fd frees it.  :class:`PinDir` is a private subdirectory of
/sys/fs/bpf for one run that is removed, with everything in it, on exit (also after
errors); :func:`sweep_stale` removes those left by runs that were killed.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path
from types import TracebackType
from typing import Self

from bpfbuild.errors import KernelError
from bpfbuild.kernel import _ffi
from bpfbuild.kernel.env import BPFFS_ROOT, ensure_bpffs, fs_type
from bpfbuild.kernel.fd import Fd

__all__ = ["PinDir", "check_on_bpffs", "pin_fd", "pin_name", "remove_pins", "sweep_stale", "unpin"]


def check_on_bpffs(path: str | os.PathLike[str]) -> Path:
    """The absolute path, after checking its directory is on a bpffs (mounting /sys/fs/bpf if needed)."""
    p = Path(os.path.abspath(path))
    if p == Path(BPFFS_ROOT) or Path(BPFFS_ROOT) in p.parents:
        ensure_bpffs()
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if fs_type(parent) != "bpf":
        raise KernelError(f"{p}: not on a bpffs (pin under {BPFFS_ROOT})")
    return p


def pin_fd(fd: int | Fd, path: str | os.PathLike[str]) -> Path:
    """Pin a program/map/link fd at ``path`` (parent directories are created on the bpffs)."""
    p = check_on_bpffs(path)
    if "." in p.name:
        raise KernelError(f"cannot pin at {p}: bpffs names cannot contain '.' (use {pin_name(p.name)!r})",
                          errno=errno.EPERM)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:   # a parent that is a pin (a file), or one that cannot be created
        raise KernelError(f"cannot pin at {p}: {exc.strerror or exc}", errno=exc.errno) from None
    ret = _ffi.libbpf().bpf_obj_pin(int(fd), os.fsencode(p))
    if ret < 0:
        err = _ffi.errno_of(ret)
        hint = " (already pinned there)" if err == errno.EEXIST else ""
        raise _ffi.fail(f"cannot pin at {p}{hint}", err)
    return p


def pin_name(name: str) -> str:
    """A program or map name made valid as a bpffs file name (dots become underscores, as libbpf does)."""
    return name.replace(".", "_")


def unpin(path: str | os.PathLike[str]) -> None:
    """Remove one pin (the object goes when its last pin and fd are gone)."""
    p = Path(os.path.abspath(path))
    if fs_type(p) != "bpf":
        raise KernelError(f"{p}: not on a bpffs")
    try:
        if os.path.ismount(p):
            raise KernelError(f"{p}: is a mount point, not a pin", errno=errno.EBUSY)
        if p.is_dir() and not p.is_symlink():
            raise KernelError(f"{p}: is a directory (remove its pins, or use remove_pins)")
        p.unlink()
    except FileNotFoundError:
        raise KernelError(f"{p}: no such pin", errno=errno.ENOENT) from None
    except OSError as exc:
        raise KernelError(f"cannot remove {p}: {exc.strerror}", errno=exc.errno) from exc


def remove_pins(directory: str | os.PathLike[str]) -> list[Path]:
    """Remove a pin directory and every pin under it; returns the pins removed.

    The walk never leaves the bpffs it starts on: an entry on another device, or any mount point
    (a tmpfs or a bind mount inside the directory), is left in place with its contents, symlinks
    are removed as links and never followed, and a KernelError (one line) names what was kept.
    """
    d = Path(os.path.abspath(directory))
    try:
        top = os.lstat(d)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise KernelError(f"{d}: {exc.strerror or exc}", errno=exc.errno) from None
    if fs_type(d) != "bpf":
        raise KernelError(f"{d}: not on a bpffs")
    if not stat.S_ISDIR(top.st_mode):
        raise KernelError(f"{d}: not a directory (remove a single pin with unpin)", errno=errno.ENOTDIR)
    if os.path.ismount(d):
        raise KernelError(f"{d}: is a mount point; remove the pins inside it instead", errno=errno.EBUSY)
    removed: list[Path] = []
    kept: list[Path] = []
    _remove_tree(d, top.st_dev, removed, kept)
    if kept:
        more = f" (and {len(kept) - 1} more)" if len(kept) > 1 else ""
        raise KernelError(f"{kept[0]}: not removed: {_why_kept(kept[0])}{more}", errno=errno.EBUSY)
    return sorted(removed)


def _why_kept(path: Path) -> str:
    return "a mount point inside the pin directory" if os.path.ismount(path) else "cannot be removed"


def _remove_tree(d: Path, dev: int, removed: list[Path], kept: list[Path]) -> None:
    """Depth-first removal of ``d`` without crossing devices or following symlinks (iterative)."""
    stack: list[tuple[Path, bool]] = [(d, False)]
    while stack:
        path, visited = stack.pop()
        if visited:
            try:
                os.rmdir(path)
            except OSError:
                if not any(k == path or path in k.parents for k in kept):
                    kept.append(path)
            continue
        stack.append((path, True))
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            child = Path(entry.path)
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if st.st_dev != dev or (stat.S_ISDIR(st.st_mode) and os.path.ismount(child)):
                kept.append(child)
            elif stat.S_ISDIR(st.st_mode):
                stack.append((child, False))
            else:
                try:
                    os.unlink(child)
                    removed.append(child)
                except FileNotFoundError:
                    pass
                except OSError:
                    kept.append(child)


_RUN_PREFIX = "bpfbuild-run-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(root: str = BPFFS_ROOT, prefix: str = _RUN_PREFIX) -> list[Path]:
    """Remove per-run pin directories whose process is gone (a run killed before cleanup)."""
    removed: list[Path] = []
    try:
        entries = list(Path(root).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid_text = entry.name[len(prefix):].split("-", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            removed.extend(remove_pins(entry))
    return removed


class PinDir:
    """A fresh ``/sys/fs/bpf/bpfbuild-run-<pid>-<random>/`` removed with its pins on exit.

    ``with PinDir() as d: pin_fd(fd, d / "hello")``
    """

    def __init__(self, root: str = BPFFS_ROOT, prefix: str = _RUN_PREFIX) -> None:
        check_on_bpffs(Path(root) / "x")
        self.path = Path(root) / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            self.path.mkdir()
        except OSError as exc:
            raise KernelError(f"cannot create {self.path}: {exc.strerror}", errno=exc.errno) from exc

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def __fspath__(self) -> str:
        return str(self.path)

    def pins(self) -> list[Path]:
        return sorted(p for p in self.path.rglob("*") if not p.is_dir()) if self.path.exists() else []

    def cleanup(self) -> list[Path]:
        return remove_pins(self.path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.cleanup()
