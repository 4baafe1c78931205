"""Read the helper list out of the kernel's UAPI ``linux/bpf.h``.

Two places in that header describe the helpers:

* the ``___BPF_FUNC_MAPPER`` macro (Linux >= 6.1: ``FN(name, id, ##ctx)``) or, in older
  headers, ``__BPF_FUNC_MAPPER`` (``FN(name)``, ids by position) gives names and ids;
* the comment after "Start of BPF helper function descriptions:" gives, for every helper, its
  C prototype (``long bpf_map_update_elem(struct bpf_map *map, ...)``) followed by
  ``Description`` and ``Return`` paragraphs.

:func:`parse_helpers` joins the two.  C types are kept as the header writes them (``u64``,
``struct bpf_map *``); mapping them to other spellings is the caller's business.

``python -m bpfbuild.abi.uapi PATH_TO/bpf.h`` regenerates ``bpfbuild/abi/_helper_ids.py``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bpfbuild.errors import BpfBuildError

__all__ = [
    "HelperDoc",
    "HelperParam",
    "header_label",
    "main",
    "parse_helpers",
    "parse_prototype",
    "render_helper_module",
]

_DOC_START = "Start of BPF helper function descriptions:"
_PROTO_RE = re.compile(r"^(?P<ret>[A-Za-z_][\w \t*]*?[\s*])(?P<name>bpf_\w+)\((?P<args>[^()]*)\)$")
_PARAM_RE = re.compile(r"^(?P<type>[A-Za-z_][\w \t*]*?[\s*])(?P<name>[A-Za-z_]\w*)$")
_MAPPER_ENTRY_RE = re.compile(r"FN\(\s*(\w+)\s*(?:,\s*(\d+)\s*)?(?:,\s*##\s*ctx\s*)?\)")
_NEW_MAPPER_RE = re.compile(r"^#define\s+___BPF_FUNC_MAPPER\s*\(", re.MULTILINE)
_OLD_MAPPER_RE = re.compile(r"^#define\s+__BPF_FUNC_MAPPER\s*\(\s*FN\s*\)", re.MULTILINE)
_MAX_ID = 1 << 20


@dataclass(frozen=True, slots=True)
class HelperParam:
    """One parameter as the header writes it: ``ctype`` ``"struct bpf_map *"``, ``name`` ``"map"``.

    A variadic tail is ``HelperParam("...", "")``.
    """

    ctype: str
    name: str

    def __str__(self) -> str:
        if not self.name:
            return self.ctype
        sep = "" if self.ctype.endswith("*") else " "
        return f"{self.ctype}{sep}{self.name}"


@dataclass(frozen=True, slots=True)
class HelperDoc:
    """A documented helper: id, name (``bpf_map_update_elem``), C return type and parameters.

    ``description`` and ``returns`` are the header's paragraphs with the comment markup and
    the indentation removed ("" when built from the generated table, which keeps prototypes only).
    A helper documented more than once (one entry per context type) takes its first entry.
    """

    id: int
    name: str
    ret_type: str
    params: tuple[HelperParam, ...]
    description: str = ""
    returns: str = ""
    #: further prototypes the header documents for the same helper (e.g. bpf_get_socket_cookie
    #: for each context type it accepts); the first one is ``prototype``
    other_prototypes: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        """The mapper's name: ``map_update_elem``."""
        return self.name.removeprefix("bpf_")

    @property
    def func_id_name(self) -> str:
        """The enumerator: ``BPF_FUNC_map_update_elem``."""
        return "BPF_FUNC_" + self.short_name

    @property
    def variadic(self) -> bool:
        return bool(self.params) and self.params[-1].ctype == "..."

    @property
    def prototype(self) -> str:
        """The C prototype as in the header: ``long bpf_map_update_elem(struct bpf_map *map, ...)``."""
        sep = "" if self.ret_type.endswith("*") else " "
        args = ", ".join(map(str, self.params)) or "void"
        return f"{self.ret_type}{sep}{self.name}({args})"

    def declaration(self, map_type: Callable[[str], str] = str) -> str:
        """The usual helper declaration, with every C type passed through ``map_type``::

            static long (* const bpf_map_update_elem)(struct bpf_map *map, ...) = (void *) 2;
        """
        ret = map_type(self.ret_type)
        sep = "" if ret.endswith("*") else " "
        params = []
        for p in self.params:
            if p.ctype == "...":
                params.append("...")
                continue
            ctype = map_type(p.ctype)
            params.append(f"{ctype}{'' if ctype.endswith('*') else ' '}{p.name}")
        args = ", ".join(params) or "void"
        return f"static {ret}{sep}(* const {self.name})({args}) = (void *) {self.id};"


def _norm_type(text: str) -> str:
    """``"struct bpf_map  * "`` -> ``"struct bpf_map *"``; ``"u64 "`` -> ``"u64"``."""
    text = " ".join(text.split())
    text = re.sub(r"\s*\*", " *", text).replace("* *", "**").strip()
    return text


def parse_prototype(text: str) -> tuple[str, str, tuple[HelperParam, ...]]:
    """Split ``"long bpf_x(u32 a, ...)"`` into ``("long", "bpf_x", (HelperParam("u32", "a"), ...))``."""
    m = _PROTO_RE.match(" ".join(text.split()))
    if m is None:
        raise BpfBuildError(f"not a helper prototype: {text!r}")
    params: list[HelperParam] = []
    args = m.group("args").strip()
    if args and args != "void":
        pieces = [piece.strip() for piece in args.split(",")]
        for i, piece in enumerate(pieces):
            if piece == "...":
                if i != len(pieces) - 1:
                    raise BpfBuildError(f"'...' must come last: {text!r}")
                params.append(HelperParam("...", ""))
                continue
            pm = _PARAM_RE.match(piece)
            if pm is None:
                raise BpfBuildError(f"cannot read parameter {piece!r} of {text!r}")
            params.append(HelperParam(_norm_type(pm.group("type")), pm.group("name")))
    return _norm_type(m.group("ret")), m.group("name"), tuple(params)


@dataclass(slots=True)
class _Entry:
    proto: str
    line: int
    description: list[str]
    returns: list[str]


def _comment_lines(text: str) -> list[tuple[int, str]]:
    """The helper documentation comment, as (line number, text without the `` *`` gutter)."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if _DOC_START in line:
            break
    else:
        raise BpfBuildError(f"no helper documentation ({_DOC_START!r} not found)")
    out: list[tuple[int, str]] = []
    for number, line in enumerate(lines[start + 1:], start + 2):
        stripped = line.strip()
        if stripped.startswith("*/"):
            return out
        if not line.startswith(" *"):
            raise BpfBuildError(f"line {number}: helper documentation ended without '*/'")
        body = line[2:]
        body = body.removeprefix(" ")
        out.append((number, body.rstrip()))
    raise BpfBuildError("helper documentation comment is not closed")


def _doc_entries(text: str) -> list[_Entry]:
    entries: list[_Entry] = []
    section: list[str] | None = None
    for number, body in _comment_lines(text):
        if not body.strip():
            if section is not None:
                section.append("")
            continue
        if not body[0].isspace():
            entries.append(_Entry(body, number, [], []))
            section = None
            continue
        if not entries:
            raise BpfBuildError(f"line {number}: text before the first helper prototype")
        head = body.strip()
        if head in ("Description", "Return") and not body.lstrip(" ").startswith("\t\t"):
            section = entries[-1].description if head == "Description" else entries[-1].returns
            continue
        if section is None:
            raise BpfBuildError(f"line {number}: text outside a Description or Return section")
        section.append(body[2:] if body.startswith("\t\t") else body.strip())
    return entries


def _paragraphs(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


def _mapper(text: str) -> list[tuple[str, int]]:
    """(name, id) pairs of the helper mapper macro, ids explicit or by position."""
    m = _NEW_MAPPER_RE.search(text) or _OLD_MAPPER_RE.search(text)
    if m is None:
        raise BpfBuildError("no __BPF_FUNC_MAPPER / ___BPF_FUNC_MAPPER definition found")
    body: list[str] = []
    for line in text[m.start():].splitlines():
        body.append(line)
        if not line.rstrip().endswith("\\"):
            break
    found = _MAPPER_ENTRY_RE.findall("\n".join(body[1:]) if len(body) > 1 else "")
    if not found:
        raise BpfBuildError("the helper mapper macro lists no FN(...) entries")
    explicit = [bool(num) for _, num in found]
    if any(explicit) and not all(explicit):
        raise BpfBuildError("the helper mapper mixes FN(name) and FN(name, id) entries")
    pairs: list[tuple[str, int]] = []
    for position, (name, num) in enumerate(found):
        if num and len(num) > 7:
            raise BpfBuildError(f"helper id {num[:12]}... of {name} is out of range")
        ident = int(num) if num else position
        if ident >= _MAX_ID:
            raise BpfBuildError(f"helper id {ident} of {name} is out of range")
        pairs.append((name, ident))
    names = [n for n, _ in pairs]
    ids = [i for _, i in pairs]
    if len(set(names)) != len(names):
        raise BpfBuildError("the helper mapper lists a name twice")
    if len(set(ids)) != len(ids):
        raise BpfBuildError("the helper mapper gives two helpers the same id")
    return pairs


def parse_helpers(text: str) -> tuple[HelperDoc, ...]:
    """All documented helpers of a ``linux/bpf.h`` text, ordered by id (``unspec`` excluded).

    Raises :class:`~bpfbuild.errors.BpfBuildError` if the header has no helper list, a
    prototype does not parse, or the documentation and the mapper disagree.
    """
    docs: dict[str, list[_Entry]] = {}
    for entry in _doc_entries(text):
        try:
            _, name, _ = parse_prototype(entry.proto)
        except BpfBuildError as exc:
            raise BpfBuildError(f"line {entry.line}: {exc.message}") from exc
        docs.setdefault(name, []).append(entry)
    helpers: list[HelperDoc] = []
    for short, ident in _mapper(text):
        if short == "unspec":
            continue
        name = "bpf_" + short
        entries = docs.pop(name, None)
        if entries is None:
            raise BpfBuildError(f"helper {name} (id {ident}) has no documentation")
        first = entries[0]
        ret, _, params = parse_prototype(first.proto)
        others = tuple(" ".join(e.proto.split()) for e in entries[1:])
        helpers.append(HelperDoc(ident, name, ret, params, _paragraphs(first.description),
                                 _paragraphs(first.returns), others))
    if docs:
        extra = ", ".join(sorted(docs))
        raise BpfBuildError(f"documented but missing from the helper mapper: {extra}")
    return tuple(sorted(helpers, key=lambda h: h.id))


def header_label(path: Path) -> str:
    """A short, machine-independent name for a ``linux/bpf.h`` copy, with its Linux version.

    The version comes from ``linux/version.h`` next to the header when there is one.
    """
    parts = path.resolve().parts
    if "ziglang" in parts:
        origin = "ziglang"
        from importlib.metadata import PackageNotFoundError, version

        try:
            origin += " " + version("ziglang")
        except PackageNotFoundError:
            origin += " (version unknown)"
        origin += " lib/libc/include/any-linux-any"
    else:
        origin = str(path)
    version_h = path.parent / "version.h"
    try:
        m = re.search(r"LINUX_VERSION_CODE\s+(\d+)", version_h.read_text(errors="replace"))
    except OSError:
        m = None
    if m:
        code = int(m.group(1))
        origin += f", Linux {code >> 16}.{(code >> 8) & 0xFF}.{code & 0xFF} UAPI"
    return origin


def render_helper_module(helpers: Sequence[HelperDoc], label: str) -> str:
    """The text of ``_helper_ids.py`` for these helpers (deterministic: sorted by id)."""
    out = [
        f"# Generated by python -m bpfbuild.abi.uapi from linux/bpf.h ({label}); do not edit",
        '"""Helper ids, names and C prototypes from the kernel UAPI header (generated)."""',
        "",
        "from __future__ import annotations",
        "",
        f"SOURCE = {label!r}",
        "",
        "#: helper id -> name",
        "HELPER_NAMES: dict[int, str] = {",
    ]
    ordered = sorted(helpers, key=lambda h: h.id)
    out += [f"    {h.id}: {h.name!r}," for h in ordered]
    out += ["}", "", "#: helper name -> C prototype as the header writes it", "HELPER_PROTOTYPES: dict[str, str] = {"]
    out += [f"    {h.name!r}: {h.prototype!r}," for h in ordered]
    out += ["}", ""]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bpfbuild.abi.uapi PATH [-o OUT]``: regenerate the helper table."""
    args = list(sys.argv[1:] if argv is None else argv)
    out_path = Path(__file__).with_name("_helper_ids.py")
    if len(args) >= 2 and args[-2] in ("-o", "--output"):
        out_path = Path(args[-1])
        args = args[:-2]
    if len(args) != 1:
        print("usage: python -m bpfbuild.abi.uapi PATH_TO/linux/bpf.h [-o OUTPUT]", file=sys.stderr)
        return 2
    path = Path(args[0])
    try:
        helpers = parse_helpers(path.read_text(errors="replace"))
    except OSError as exc:
        print(f"{path}: {exc.strerror}", file=sys.stderr)
        return 1
    except BpfBuildError as exc:
        print(exc.with_file(str(path)), file=sys.stderr)
        return 1
    out_path.write_text(render_helper_module(helpers, header_label(path)))
    print(f"{out_path}: {len(helpers)} helpers from {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
