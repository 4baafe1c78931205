"""Names in generated skeletons: how bpftool derives them, and the checks that keep them safe.

Every identifier a skeleton contains comes from the object (file name, map and program
symbols, section and variable names).  A crafted object could carry names that are not
identifiers (``x; } maps; void evil(void) {``): :func:`c_identifier` and
:func:`python_identifier` reject those with a one-line :class:`SkelError` before any text is
generated.  Names that end up inside string literals are escaped instead (:mod:`.text`).

Facts followed (bpftool 7.x ``gen skeleton``, libbpf 1.1):

* skeleton name: the file's base name (at most 63 characters), a trailing ``.o`` removed,
  every character other than ``[A-Za-z0-9_]`` turned into ``_`` (``hello.bpf.o`` ->
  ``hello_bpf``); the header guard is ``__<NAME>_SKEL_H__`` in upper case;
* a global-data map is named by libbpf from the *skeleton* name (the object is opened with it):
  ``<name truncated>.<section>`` within 15 characters (``hello_bp.bss``), or the whole section
  name for ``.data.*``/``.rodata.*`` sections (``.data.custom``);
* its member name in the skeleton: the text after the first of ``.data``, ``.rodata``,
  ``.bss``, ``.kconfig`` found in the map name, sanitized (``rodata``, ``data_custom``,
  ``rodata_str1_1``); other maps keep their own name.
"""

from __future__ import annotations

import keyword
import os
import re

from bpfbuild.errors import SkelError

__all__ = [
    "C_KEYWORDS",
    "MAX_NAME_LEN",
    "c_identifier",
    "datasec_ident",
    "header_guard",
    "internal_map_ident",
    "libbpf_map_name",
    "python_identifier",
    "sanitize",
    "skeleton_name",
]

#: bpftool keeps at most this many characters of the object name (MAX_OBJ_NAME_LEN - 1).
MAX_NAME_LEN = 63
_BPF_OBJ_NAME_LEN = 16
_DATA_KINDS = (".data", ".rodata", ".bss", ".kconfig")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NOT_IDENT_CHAR = re.compile(r"[^A-Za-z0-9_]")

#: C11 keywords (and the GNU spellings a header could trip on): never usable as member names.
C_KEYWORDS = frozenset((
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
    "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
    "_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary", "_Noreturn",
    "_Static_assert", "_Thread_local", "asm", "typeof", "__attribute__", "__typeof__", "__asm__",
    "__extension__", "__inline__", "__restrict__", "__volatile__", "__const__", "__signed__",
))


def sanitize(text: str) -> str:
    """bpftool's ``sanitize_identifier``: every character but ASCII letters, digits, ``_`` -> ``_``."""
    return _NOT_IDENT_CHAR.sub("_", text)


def _show(text: str) -> str:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return repr(shown)


def c_identifier(name: str, what: str) -> str:
    """``name`` if it is a valid C identifier (and not a keyword), else SkelError naming ``what``."""
    if not _IDENT.match(name) or name in C_KEYWORDS:
        raise SkelError(f"{what} {_show(name)} is not a valid C identifier")
    return name


def python_identifier(name: str, what: str) -> str:
    """``name`` if it is an ASCII Python identifier and not a keyword, else SkelError."""
    if not _IDENT.match(name) or keyword.iskeyword(name):
        raise SkelError(f"{what} {_show(name)} is not a valid Python identifier")
    return name


def skeleton_name(path: str, override: str | None = None) -> str:
    """The skeleton's name: ``override`` (checked) or bpftool's derivation from the file name."""
    if override is not None:
        if len(override) > MAX_NAME_LEN:
            raise SkelError(f"skeleton name {_show(override)} is longer than {MAX_NAME_LEN} characters")
        return c_identifier(override, "skeleton name")
    name = os.path.basename(path)[:MAX_NAME_LEN].removesuffix(".o")
    return c_identifier(sanitize(name), f"skeleton name derived from {os.path.basename(path)!r} (use --name):")


def header_guard(name: str) -> str:
    return f"__{name}_SKEL_H__".upper()


def _is_custom(section: str) -> bool:
    """``.data.foo`` / ``.rodata.str1.1``: a section libbpf names without the object prefix."""
    return "." in section[1:]


def libbpf_map_name(skel_name: str, section: str) -> str:
    """The name libbpf 1.1 gives a global-data map when the object is opened as ``skel_name``."""
    if _is_custom(section):
        return section
    sfx_len = max(7, len(section))
    pfx_len = max(0, min(_BPF_OBJ_NAME_LEN - sfx_len - 1, len(skel_name)))
    name = (skel_name[:pfx_len] + section[:sfx_len])[: _BPF_OBJ_NAME_LEN - 1]
    return "".join(ch if ch.isalnum() or ch in "_." else "_" for ch in name)


def internal_map_ident(map_name: str) -> str | None:
    """Member name of a global-data map (``hello_bp.bss`` -> ``bss``); None: not one bpftool knows."""
    for kind in _DATA_KINDS:
        at = map_name.find(kind)
        if at >= 0:
            return sanitize(map_name[at + 1:])
    return None


def datasec_ident(section: str) -> str | None:
    """Member name of a data section (``.data.custom`` -> ``data_custom``); None for other sections."""
    if section.startswith(_DATA_KINDS):
        return sanitize(section[1:])
    return None
