"""Literals in generated code: whatever the bytes, they stay inside their quotes."""

from __future__ import annotations

import ast
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.skel.text import c_bytes_lines, c_string, py_bytes_lines

_ESCAPE = re.compile(r"\\(x[0-9a-f]{2}|[0-7]{1,3})")


def decode_c_literal(literal: str) -> bytes:
    """The bytes of one C string literal made only of plain characters and \\xNN / \\NNN escapes."""
    assert literal[0] == '"' and literal[-1] == '"'
    body = literal[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        assert ch not in '"\n?', f"unescaped {ch!r} in {literal!r}"
        if ch == "\\":
            m = _ESCAPE.match(body, i)
            assert m is not None, f"bad escape in {literal!r}"
            code = m.group(1)
            if code[0] == "x":
                out.append(int(code[1:], 16))
            else:
                out.append(int(code, 8))
            # a hex escape would swallow a following hex digit; an octal one any digit 0-7
            nxt = body[m.end():m.end() + 1]
            if code[0] == "x":
                assert not re.match(r"[0-9a-fA-F]", nxt)
            elif len(code) < 3:
                assert not re.match(r"[0-7]", nxt)
            i = m.end()
        else:
            out += ch.encode()
            i += 1
    return bytes(out)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_c_strings_round_trip(text: str) -> None:
    literal = c_string(text)
    assert "*/" not in literal and "\n" not in literal
    assert decode_c_literal(literal) == text.encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=8, max_value=100))
def test_c_byte_lines_round_trip(data: bytes, width: int) -> None:
    lines = c_bytes_lines(data, width)
    assert all(len(line) <= max(width, 6) for line in lines)
    assert b"".join(decode_c_literal(line) for line in lines) == data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_python_byte_lines_round_trip(data: bytes) -> None:
    text = "".join(ast.literal_eval(line) for line in py_bytes_lines(data))
    assert bytes.fromhex(text) == data
