"""Kernel symbol lookup by exact address (``/proc/kallsyms``), as bpftool names calls.

In an xlated image a helper call's ``imm`` is the helper's address minus
``__bpf_call_base``; a bpf-to-bpf call names a JIT image whose symbol is
``bpf_prog_<tag>_<func>``.  Addresses read as zero without privileges
(``kernel.kptr_restrict``): lookups then find nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["KernelSymbols"]

_CALL_BASE = re.compile(r"^([0-9a-f]+) \S __bpf_call_base$", re.MULTILINE)


class KernelSymbols:
    """A snapshot of /proc/kallsyms, searched per address (the file is read once)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._cache: dict[int, str | None] = {}
        m = _CALL_BASE.search(text)
        base = int(m.group(1), 16) if m else 0
        self.call_base: int | None = base or None

    @classmethod
    def load(cls, path: str = "/proc/kallsyms") -> KernelSymbols:
        try:
            return cls(Path(path).read_text(errors="replace"))
        except OSError:
            return cls("")

    def name_at(self, address: int) -> str | None:
        """The symbol starting exactly at ``address`` (None if unknown or addresses are hidden)."""
        if address <= 0:
            return None
        if address not in self._cache:
            m = re.search(rf"^{address:016x} \S (\S+)", self._text, re.MULTILINE)
            self._cache[address] = m.group(1) if m else None
        return self._cache[address]

    def helper_at(self, imm: int) -> str | None:
        """The kernel function a rewritten helper call (``imm`` relative to __bpf_call_base) calls."""
        if self.call_base is None:
            return None
        return self.name_at((self.call_base + imm) & 0xFFFFFFFFFFFFFFFF)
