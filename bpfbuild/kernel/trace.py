"""Read ``bpf_printk`` output from the kernel's trace pipe, with a timeout, without blocking.

``trace_pipe`` is consumed by reading and shared by every reader on the machine: filter by a
marker your program prints, and expect other programs' lines in between.

::

    with TracePipe() as pipe:
        ... run the program ...
        lines = pipe.read(timeout=2.0, marker="Hello World", count=2)
"""

from __future__ import annotations

import errno
import os
import re
import select
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from bpfbuild.errors import KernelError
from bpfbuild.kernel.env import ensure_tracefs

__all__ = ["TraceLine", "TracePipe", "parse_trace_line"]

# "  <task>-<pid>  [(tgid)]  [cpu] flags  timestamp: event: message"
_LINE = re.compile(
    r"^\s*(?P<task>.*?)-(?P<pid>\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(?P<cpu>\d+)\]\s+(?:(?P<flags>\S+)\s+)?"
    r"(?P<ts>\d+\.\d+):\s+(?P<event>[^:]+):\s?(?P<message>.*)$"
)


@dataclass(frozen=True, slots=True)
class TraceLine:
    raw: str
    task: str
    pid: int | None
    cpu: int | None
    timestamp: float | None
    event: str                 # "bpf_trace_printk" for bpf_printk
    message: str


def parse_trace_line(raw: str) -> TraceLine:
    m = _LINE.match(raw)
    if m is None:
        return TraceLine(raw, "", None, None, None, "", raw)
    return TraceLine(raw=raw, task=m["task"], pid=int(m["pid"]), cpu=int(m["cpu"]),
                     timestamp=float(m["ts"]), event=m["event"].strip(), message=m["message"])


class TracePipe:
    """A non-blocking reader of ``<tracefs>/trace_pipe`` (tracefs is mounted if needed)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else ensure_tracefs() / "trace_pipe"
        try:
            self._fd: int | None = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise KernelError(f"cannot open {self.path}: {exc.strerror}", errno=exc.errno) from exc
        self._partial = b""

    def _read_available(self) -> list[str]:
        assert self._fd is not None
        chunks = []
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise KernelError(f"cannot read {self.path}: {exc.strerror}", errno=exc.errno) from exc
            if not chunk:
                break
            chunks.append(chunk)
        data = self._partial + b"".join(chunks)
        *lines, self._partial = data.split(b"\n")
        return [ln.decode("utf-8", "replace") for ln in lines]

    def read(self, timeout: float = 1.0, *, marker: str | None = None, count: int | None = None,
             printk_only: bool = True) -> list[TraceLine]:
        """Lines arriving within ``timeout`` seconds (stops early once ``count`` matched).

        ``marker``: keep only lines whose message contains it; ``printk_only``: only
        ``bpf_trace_printk`` events.
        """
        if self._fd is None:
            raise KernelError("trace pipe is closed")
        deadline = time.monotonic() + timeout
        found: list[TraceLine] = []
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        while True:
            for raw in self._read_available():
                line = parse_trace_line(raw)
                if printk_only and line.event != "bpf_trace_printk":
                    continue
                if marker is not None and marker not in line.message:
                    continue
                found.append(line)
            if count is not None and len(found) >= count:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return found
            poller.poll(min(left, 0.1) * 1000)

    def drain(self) -> int:
        """Discard what is pending now; returns the number of lines dropped."""
        return len(self._read_available()) if self._fd is not None else 0

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
