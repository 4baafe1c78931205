"""The one reader of every input file: bounded, regular files only, errors in one line.

Every command that reads a file the user names (objects, BTF, specs, contexts, configuration)
goes through :func:`read_input`, so none of them can be made to hang on a FIFO, read
``/dev/zero`` until memory runs out, or allocate a sparse gigabyte:

* the file is opened non-blocking (opening a FIFO with no writer returns at once) and must be a
  regular file (FIFOs, devices, sockets and directories are refused);
* it must be at most ``limit`` bytes (default :data:`MAX_INPUT_BYTES`, 256 MiB: far above any
  BPF object or kernel BTF, ``/sys/kernel/btf/vmlinux`` is a few MiB); at most ``limit + 1``
  bytes are ever read, so a file that grows while we read it is refused too.
"""

from __future__ import annotations

import errno
import os
import stat

from bpfbuild.errors import BpfBuildError

__all__ = ["MAX_INPUT_BYTES", "MAX_TEXT_BYTES", "read_input", "read_text_input"]

#: Largest input file read (objects, BTF).
MAX_INPUT_BYTES = 256 << 20
#: Largest text input (specs, contexts, configuration).
MAX_TEXT_BYTES = 16 << 20

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def read_input(path: str | os.PathLike[str], *, limit: int = MAX_INPUT_BYTES,
               error: type[BpfBuildError] = BpfBuildError, shown: str | None = None) -> bytes:
    """The bytes of the regular file ``path``, or ``error`` (one line, ``file=`` the path)."""
    name = shown or os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:   # a FIFO or socket with no peer
            raise error("cannot read: not a regular file", file=name) from None
        raise error(f"cannot read: {exc.strerror or exc}", file=name) from None
    except ValueError:   # a NUL byte in the path (argv, a path inside a record)
        raise error("cannot read: the path contains a NUL byte", file=name.replace("\0", "\\0")) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((what for test, what in _KINDS if test(st.st_mode)), "not a regular file")
            raise error(f"cannot read: {kind}, not a regular file", file=name)
        if st.st_size > limit:
            raise error(f"cannot read: {st.st_size} bytes, larger than the limit of {limit} bytes", file=name)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise error(f"cannot read: more than the limit of {limit} bytes", file=name)
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", file=name) from None
    finally:
        os.close(fd)


def read_text_input(path: str | os.PathLike[str], *, limit: int = MAX_TEXT_BYTES,
                    error: type[BpfBuildError] = BpfBuildError, shown: str | None = None) -> str:
    """:func:`read_input` decoded as UTF-8 (``error`` when it is not)."""
    data = read_input(path, limit=limit, error=error, shown=shown)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"cannot read: not UTF-8 text (byte {exc.start})", file=shown or os.fspath(path)) from None
