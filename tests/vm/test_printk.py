"""bpf_printk's formatting, against the kernel's documented rules (bpf_bprintf_prepare,
bstr_printf); tests/vm/test_kernel.py checks the same against the running kernel."""

from __future__ import annotations

import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.vm.printk import MAX_BPRINTF_BUF, bprintf

STRINGS = {0x1000: b"hello", 0x2000: b"x" * 600}
IPS = {0x3000: bytes([192, 168, 1, 20]), 0x4000: bytes.fromhex("20010db8000000000000000000000001")}
M64 = (1 << 64) - 1


def fmt(text: bytes, *args: int, kptr_restrict: int = 0) -> bytes | int:
    res = bprintf(text, [a & M64 for a in args],
                  read_string=lambda a, n, kind: STRINGS.get(a, b"")[: n - 1] if a in STRINGS else None,
                  read_bytes=lambda a, n: IPS.get(a, b"")[:n] if a in IPS else None,
                  kptr_restrict=kptr_restrict)
    return res.error if res.error else res.text


@pytest.mark.parametrize("text, args, out", [
    (b"Hello World %d", [7], b"Hello World 7"),
    (b"%d %i", [-1, -2], b"-1 -2"),
    (b"%u %x %X", [-1, 255, 255], b"4294967295 ff FF"),
    (b"%ld %lu", [-1, -1], b"-1 18446744073709551615"),
    (b"%lld %llx", [1 << 40, 1 << 40], b"1099511627776 10000000000"),
    (b"%d", [0x1_0000_0005], b"5"),                              # int is 32 bits
    (b"[%6d][%-6d][%06d]", [-42, -42, -42], b"[   -42][-42   ][-00042]"),
    (b"[%+d][% d][%+u]", [5, 5, 5], b"[+5][ 5][5]"),             # + and space only for signed
    (b"%s and %7s", [0x1000, 0x1000], b"hello and   hello"),
    (b"%c%c", [0x68, 0x69], b"hi"),
    (b"100%%", [], b"100%"),
    (b"%pI4 %pi4", [0x3000, 0x3000], b"192.168.1.20 192.168.001.020"),
    (b"%pI6", [0x4000], b"2001:0db8:0000:0000:0000:0000:0000:0001"),
    (b"%pi6", [0x4000], b"20010db8000000000000000000000001"),
    (b"%pI4", [0x9999], b"0.0.0.0"),                             # unreadable: zeros
    (b"%px", [0xFFFF888012345678], b"ffff888012345678"),
    (b"%p", [0], b"0000000000000000"),                           # NULL is not hashed
    (b"%s|", [0x9999], b"|"),                                    # unreadable string: empty
    (b"%ps", [0xFFFFFFFF81000000], b"0xffffffff81000000"),       # no kallsyms here
    (b"caf\xc3\xa9", [], b"caf\xc3\xa9"),                        # UTF-8 passes (Linux 6.18)
])
def test_formats(text: bytes, args: list[int], out: bytes) -> None:
    assert fmt(text, *args) == out


@pytest.mark.parametrize("text, args", [
    (b"%d %d %d %d", [1, 2, 3]),          # more conversions than arguments
    (b"%.2d", [1]), (b"%hd", [1]), (b"%#x", [1]), (b"%z", [1]), (b"%q", [1]),
    (b"%sfoo", [0x1000]),                 # %s must be followed by space, punctuation or the end
    (b"%pZ", [1]), (b"%pI5", [1]),
    (b"%", []), (b"tail %", [1]),
    (b"bell\x07", []),                    # ASCII control bytes other than white space
])
def test_refused_formats_are_einval(text: bytes, args: list[int]) -> None:
    assert fmt(text, *args) == -errno.EINVAL


def test_pointer_hashing_is_stable_and_32_bits() -> None:
    a, b = fmt(b"%p", 0xFFFF888012345678), fmt(b"%p", 0xFFFF888012345678)
    assert a == b and isinstance(a, bytes) and len(a) == 16 and a.startswith(b"00000000")
    assert fmt(b"%pK", 0xFFFF888012345678, kptr_restrict=2) == b"0000000000000000"
    assert fmt(b"%pK", 0xFFFF888012345678, kptr_restrict=1) == b"ffff888012345678"
    assert fmt(b"%pK", 0xFFFF888012345678, kptr_restrict=0) == a


def test_letters_after_a_pointer_conversion_are_swallowed() -> None:
    assert fmt(b"%pI6c.", 0x4000) == b"2001:0db8:0000:0000:0000:0000:0000:0001."


def test_output_is_truncated_to_the_kernel_buffer_but_the_length_is_not() -> None:
    read = {"read_string": lambda a, n, k: STRINGS[a][: n - 1], "read_bytes": lambda a, n: None}
    # strings share 512 bytes of argument space: the first takes 511 characters and the NUL...
    assert bprintf(b"%s", [0x2000], **read).length == 511
    # ...and a second string finds no room left: -ENOSPC, as the kernel answers
    assert bprintf(b"%s%s", [0x2000, 0x2000], **read).error == -errno.ENOSPC
    long = bprintf(b"x" * 2000, [], read_string=lambda a, n, k: None, read_bytes=lambda a, n: None)
    assert long.length == 2000 and len(long.text) == MAX_BPRINTF_BUF - 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.lists(st.integers(0, M64), max_size=4))
def test_any_format_gives_text_or_an_error(text: bytes, args: list[int]) -> None:
    res = bprintf(text, args, read_string=lambda a, n, k: None, read_bytes=lambda a, n: None)
    assert res.error in (0, -errno.EINVAL, -errno.ENOSPC)
    assert len(res.text) < MAX_BPRINTF_BUF
