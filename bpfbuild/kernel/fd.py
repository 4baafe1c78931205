"""Owned file descriptors, closed exactly once (``with Fd(...) as fd:``)."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Self

__all__ = ["Fd"]


class Fd:
    """A file descriptor this process owns: ``close()`` is idempotent, ``with`` closes it.

    ``int(fd)`` / ``fd.fileno()`` give the number (ValueError once closed); ``release()``
    hands ownership back to the caller.
    """

    __slots__ = ("_fd", "what")

    def __init__(self, fd: int, what: str = "fd") -> None:
        if fd < 0:
            raise ValueError(f"invalid file descriptor {fd} for {what}")
        self._fd: int | None = fd
        self.what = what

    def fileno(self) -> int:
        if self._fd is None:
            raise ValueError(f"{self.what}: file descriptor already closed")
        return self._fd

    __int__ = fileno

    @property
    def closed(self) -> bool:
        return self._fd is None

    def release(self) -> int:
        """Give up ownership: return the number and forget it (the caller closes it)."""
        fd = self.fileno()
        self._fd = None
        return fd

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._fd is None else str(self._fd)
        return f"Fd({state}, {self.what!r})"
