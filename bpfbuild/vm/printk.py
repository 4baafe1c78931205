"""The kernel's printf for BPF: ``bpf_bprintf_prepare`` (what formats are accepted) and
``bstr_printf`` (how they print), as Linux 6.18 does for ``bpf_trace_printk``,
``bpf_trace_vprintk`` and ``bpf_snprintf``.

Accepted conversions (anything else is -EINVAL, as is an ASCII control byte other than
white space in the format, a missing NUL, or more conversions than arguments; bytes of
0x80 and above pass through, so UTF-8 text prints):

* ``%%``;
* flags from ``0 + - space`` then a width (no precision, no ``#``, no ``h``);
* ``%d %i %u %x %X`` with ``l`` or ``ll`` (``int`` is 32 bits, ``long`` 64);
* ``%c``; ``%s`` / ``%pks`` / ``%pus`` (the string, which must be followed by a NUL, a space
  or punctuation);
* ``%p`` (hashed), ``%pK`` (per ``kptr_restrict``), ``%px`` (raw), ``%ps``/``%pS`` (a symbol:
  printed as the raw address, the emulator has no kallsyms), ``%pB``;
* ``%pI4 %pi4 %pI6 %pi6`` (the address is read from memory; an unreadable one prints zeros).

After ``%p`` every following letter or digit belongs to the pointer format (``%pI6c`` prints
like ``%pI6``), as ``bstr_printf`` skips them.  The output is what the kernel writes into its
1024-byte buffer: at most 1023 bytes, and the return value is the untruncated length.
"""

from __future__ import annotations

import errno
import hashlib
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["MAX_BPRINTF_BUF", "MAX_BPRINTF_VARARGS", "PrintfResult", "bprintf"]

#: The kernel's output buffer (one trace_printk line is at most 1023 bytes).
MAX_BPRINTF_BUF = 1024
#: Most arguments bpf_trace_vprintk / bpf_snprintf take.
MAX_BPRINTF_VARARGS = 12
#: Bytes of preformatted arguments (strings, IPs) one call may carry.
MAX_BPRINTF_BIN_ARGS = 512

# isprint || isspace; bytes >= 0x80 pass too (Linux 6.18 lets UTF-8 text through)
_PRINTABLE = frozenset(string.printable.encode()) | frozenset(range(0x80, 0x100))
_PUNCT = frozenset(string.punctuation.encode())
_SPACE = frozenset(b" \t\n\r\x0b\x0c")
_M64 = (1 << 64) - 1

#: reads a NUL-terminated string at an address, at most ``limit`` bytes, as ``%s`` (kind
#: "s"), ``%pks`` ("ks", kernel memory) or ``%pus`` ("us", user memory); None: unreadable
StringReader = Callable[[int, int, str], bytes | None]
#: reads ``n`` bytes at an address (None: unreadable)
BytesReader = Callable[[int, int], bytes | None]


@dataclass(frozen=True, slots=True)
class PrintfResult:
    """``error`` is a negative errno (and ``text`` empty) when the format is refused;
    ``length`` is what the kernel function returns for a good format (the untruncated length)."""

    text: bytes
    length: int
    error: int = 0


@dataclass(frozen=True, slots=True)
class _Spec:
    flags: str
    width: int
    conv: str          # d i u x X c s p
    size: int = 4      # argument width in bytes for integers
    ptype: str = ""    # pointer extension: "", "K", "x", "s", "S", "B", "I4", "i4", "I6", "i6", "ks", "us"


def _parse(fmt: bytes, num_args: int) -> list[bytes | _Spec] | int:
    """Split ``fmt`` (without its NUL) into literal bytes and conversions, or return -EINVAL."""
    out: list[bytes | _Spec] = []
    lit = bytearray()
    n = len(fmt)

    def at(k: int) -> int:   # the kernel may read the NUL just past the end
        return fmt[k] if k < n else 0

    i = 0
    specs = 0
    while i < n:
        c = fmt[i]
        if c not in _PRINTABLE:
            return -errno.EINVAL
        if c != 0x25:   # '%'
            lit.append(c)
            i += 1
            continue
        if at(i + 1) == 0x25:
            lit.append(0x25)
            i += 2
            continue
        if specs >= num_args:
            return -errno.EINVAL
        i += 1
        start = i
        while at(i) in b"0+- ":
            i += 1
        flags = fmt[start:i].decode()
        width = 0
        if 0x31 <= at(i) <= 0x39:
            w0 = i
            i += 1
            while 0x30 <= at(i) <= 0x39:
                i += 1
            width = int(fmt[w0:i])
        ch = at(i)
        spec: _Spec
        if ch == 0x70:   # p
            nxt = at(i + 1)
            if nxt in b"ku" and at(i + 2) == 0x73:
                after = at(i + 3)
                if after != 0 and after not in _SPACE and after not in _PUNCT:
                    return -errno.EINVAL
                spec = _Spec(flags, width, "s", 8, chr(nxt) + "s")
                i += 3
            elif nxt == 0 or nxt in _SPACE or nxt in _PUNCT or nxt in b"KxsSB":
                spec = _Spec(flags, width, "p", 8, chr(nxt) if nxt in b"KxsSB" else "")
                i = _skip_alnum(fmt, i + 1)
            elif nxt in b"iI" and at(i + 2) in b"46":
                spec = _Spec(flags, width, "p", 8, chr(nxt) + chr(at(i + 2)))
                i = _skip_alnum(fmt, i + 1)
            else:
                return -errno.EINVAL
        elif ch == 0x73:   # s
            nxt = at(i + 1)
            if nxt != 0 and nxt not in _SPACE and nxt not in _PUNCT:
                return -errno.EINVAL
            spec = _Spec(flags, width, "s", 8, "s")
            i += 1
        elif ch == 0x63:   # c
            spec = _Spec(flags, width, "c", 1)
            i += 1
        else:
            size = 4
            if at(i) == 0x6C:   # l
                size = 8
                i += 1
            if at(i) == 0x6C:
                size = 8
                i += 1
            conv = at(i)
            if conv not in b"iduxX":
                return -errno.EINVAL
            spec = _Spec(flags, width, chr(conv), size)
            i += 1
        if lit:
            out.append(bytes(lit))
            lit.clear()
        out.append(spec)
        specs += 1
    if lit:
        out.append(bytes(lit))
    return out


def _skip_alnum(fmt: bytes, i: int) -> int:
    """bstr_printf consumes every letter and digit after a pointer conversion."""
    while i < len(fmt) and (chr(fmt[i]).isalnum() and fmt[i] < 0x80):
        i += 1
    return i


def _pad(body: bytes, spec: _Spec) -> bytes:
    """string(): space padding to the field width, on the left unless ``-``."""
    fill = spec.width - len(body)
    if fill <= 0:
        return body
    return body + b" " * fill if "-" in spec.flags else b" " * fill + body


def _number(value: int, spec: _Spec) -> bytes:
    bits = 8 * spec.size
    value &= (1 << bits) - 1
    sign = b""
    if spec.conv in "di":
        if value >> (bits - 1):
            value -= 1 << bits
        if value < 0:
            sign = b"-"
            value = -value
        elif "+" in spec.flags:
            sign = b"+"
        elif " " in spec.flags:
            sign = b" "
    match spec.conv:
        case "x":
            digits = f"{value:x}".encode()
        case "X":
            digits = f"{value:X}".encode()
        case _:
            digits = str(value).encode()
    left = "-" in spec.flags
    zero = "0" in spec.flags and not left
    fill = spec.width - len(sign) - len(digits)
    if fill <= 0:
        return sign + digits
    if left:
        return sign + digits + b" " * fill
    if zero:
        return sign + b"0" * fill + digits
    return b" " * fill + sign + digits


def _ip(raw: bytes, ptype: str) -> bytes:
    if ptype[1] == "4":
        sep = "{:03d}" if ptype[0] == "i" else "{:d}"
        return ".".join(sep.format(b) for b in raw).encode()
    groups = [raw[k:k + 2].hex() for k in range(0, 16, 2)]
    return ("".join(groups) if ptype[0] == "i" else ":".join(groups)).encode()


def _pointer(value: int, spec: _Spec, hash_key: bytes, kptr_restrict: int) -> bytes:
    value &= _M64
    ptype = spec.ptype
    if ptype in ("s", "S", "B"):
        # a symbol: the emulator has no kallsyms, so it prints what the kernel prints for
        # an address without a symbol
        return _pad(f"0x{value:x}".encode(), spec)
    if ptype == "K":
        if kptr_restrict >= 2:
            value = 0
        elif kptr_restrict == 0:
            ptype = ""
    if ptype == "" and value and value < _M64 - 4095:
        # %p hashes pointers (siphash with a per-boot key, upper 32 bits masked off); the
        # emulator hashes with a per-session key the same way: stable, not the kernel's value
        digest = hashlib.blake2b(value.to_bytes(8, "little"), key=hash_key, digest_size=8).digest()
        value = int.from_bytes(digest, "little") & 0xFFFFFFFF
    if not spec.width:   # pointer_string(): 16 zero-padded hex digits by default
        return f"{value:016x}".encode()
    return _number(value, _Spec(spec.flags, spec.width, "x", 8))


def bprintf(fmt: bytes, args: Sequence[int], *, read_string: StringReader, read_bytes: BytesReader,
            hash_key: bytes = b"bpfbuild", kptr_restrict: int = 0,
            bufsize: int = MAX_BPRINTF_BUF) -> PrintfResult:
    """Format ``fmt`` (the bytes up to, not including, its NUL) with ``args`` (raw u64s).

    ``read_string`` / ``read_bytes`` read the memory that ``%s`` and ``%pI4`` point to.
    The text is truncated to ``bufsize - 1`` bytes; ``length`` is the full length.
    """
    parsed = _parse(fmt, len(args))
    if isinstance(parsed, int):
        return PrintfResult(b"", 0, parsed)
    out = bytearray()
    used = 0          # bytes of the kernel's 512-byte argument buffer taken so far
    arg_index = 0
    for piece in parsed:
        if isinstance(piece, bytes):
            out += piece
            continue
        value = args[arg_index] & _M64
        arg_index += 1
        room = MAX_BPRINTF_BIN_ARGS - used
        if piece.conv == "s":
            if room <= 0:
                return PrintfResult(b"", 0, -errno.ENOSPC)
            text = read_string(value, room, piece.ptype) if value else None
            text = b"" if text is None else text[: room - 1]
            used += len(text) + 1
            out += _pad(text, piece)
        elif piece.conv == "c":
            if room <= 0:
                return PrintfResult(b"", 0, -errno.ENOSPC)
            used += 1
            out += _pad(bytes([value & 0xFF]), piece)
        elif piece.conv == "p" and piece.ptype[:1] in ("i", "I"):
            n = 4 if piece.ptype[1] == "4" else 16
            if room < n:
                return PrintfResult(b"", 0, -errno.ENOSPC)
            raw = read_bytes(value, n)
            text = _ip(raw if raw is not None else bytes(n), piece.ptype)
            used += len(text) + 1          # snprintf's return value, even if it was truncated
            out += _pad(text[: room - 1], piece)
        else:
            used = (used + 3) & ~3         # PTR_ALIGN(tmp_buf, sizeof(u32))
            if MAX_BPRINTF_BIN_ARGS - used < piece.size:
                return PrintfResult(b"", 0, -errno.ENOSPC)
            used += piece.size
            out += _pointer(value, piece, hash_key, kptr_restrict) if piece.conv == "p" else _number(value, piece)
    length = len(out)
    return PrintfResult(bytes(out[: max(bufsize - 1, 0)]), length)
