"""Literal spelling for generated code (pure functions; render.py registers them as filters).

Everything a template puts inside quotes goes through here, so no byte of an object can end a
literal early: C strings use only ``\\NNN`` octal escapes for anything outside a small safe set
(an octal escape is at most three digits, so the next character can never extend it), and
Python literals come from ``repr``.
"""

from __future__ import annotations

__all__ = ["c_bytes_lines", "c_string", "py_bytes_lines", "py_literal"]

# Characters written as themselves inside a C string literal: no quote, backslash, '?'
# (trigraphs), '*'/'/' (comment look-alikes in error messages) or anything non-printable.
_C_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-+:,;=@#$%^&|~<>()[]{}! ")
_C_BYTE = tuple(chr(b) if chr(b) in _C_PLAIN else f"\\{b:03o}" for b in range(256))


def c_string(text: str) -> str:
    """``text`` as a C string literal, quotes included (UTF-8, unsafe bytes as octal escapes)."""
    return '"' + "".join(_C_BYTE[b] for b in text.encode("utf-8")) + '"'


def c_bytes_lines(data: bytes, width: int = 76) -> list[str]:
    """``data`` as adjacent C string literals of at most ``width`` characters each.

    Zero bytes are ``\\0`` and the rest ``\\xNN`` (as bpftool spells them): a zero is only ever
    followed by another escape, never by a digit that would extend it.
    """
    lines: list[str] = []
    piece: list[str] = []
    used = 2
    for b in data:
        esc = "\\0" if b == 0 else f"\\x{b:02x}"
        if used + len(esc) > width and piece:
            lines.append('"' + "".join(piece) + '"')
            piece, used = [], 2
        piece.append(esc)
        used += len(esc)
    if piece or not lines:
        lines.append('"' + "".join(piece) + '"')
    return lines


def py_bytes_lines(data: bytes, width: int = 96) -> list[str]:
    """``data`` as hex string literals (for ``bytes.fromhex``), ``width`` hex digits each."""
    text = data.hex()
    return [repr(text[i:i + width]) for i in range(0, len(text), width)] or ["''"]


def py_literal(value: object) -> str:
    """A Python literal for plain data (ints, strings, bytes, tuples, None, bools)."""
    return repr(value)
