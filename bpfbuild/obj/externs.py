"""Externs (``__kconfig``, ``__ksym``, kfunc declarations), resolved as libbpf resolves them at load.

Facts followed (libbpf 1.x ``bpf_object__collect_externs`` / ``bpf_object__resolve_externs``):

* An extern is an ELF symbol that is undefined, global or weak, of type NOTYPE, with a BTF VAR (or
  FUNC) of extern linkage listed in the DATASEC ``.kconfig`` or ``.ksyms``.  ``__weak`` makes an
  unresolved extern default to zero instead of failing the load.
* Externs are ordered: ``.kconfig`` ones first (by alignment, largest first; then by size,
  smallest first; then by name), then ``.ksyms`` by name.  ``.kconfig`` values are laid out in that
  order, each at the next offset aligned for its type; the ``<obj>.kconfig`` map is a read-only
  single-entry array exactly that long.
* ``.kconfig`` types: ``bool`` (1-byte BOOL int), ``enum libbpf_tristate`` (n=0, y=1, m=2), any
  other 1-byte int is a ``char`` (stores the letter ``y``/``n``/``m`` or a number), ints of 2/4/8
  bytes, char arrays (quoted strings, truncated to fit with a NUL).  ``LINUX_KERNEL_VERSION``,
  ``LINUX_HAS_BPF_COOKIE`` and ``LINUX_HAS_SYSCALL_WRAPPER`` are filled by libbpf itself; other
  ``LINUX_*`` names must be ``__weak``; ``CONFIG_*`` come from the target's config file.
* ``.ksyms``: a variable declared ``void`` is untyped (its kallsyms address, a plain ``ld_imm64``);
  a typed one must exist as a VAR of compatible type in the target BTF (``ld_imm64`` BTF_ID); a
  function is a kfunc, a FUNC of compatible prototype in the target BTF (``call`` KFUNC).
  Names may carry a ``___flavour`` suffix, which is ignored when searching the target.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bpfbuild.abi.target import Target
from bpfbuild.btf.compat import essential_name, skip_mods, types_are_compat
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import Array, Datasec, Enum, Enum64, Func, Int, Kind, Linkage, Var
from bpfbuild.errors import BpfBuildError, ObjectError, TargetMismatch
from bpfbuild.obj.elf import SHN_UNDEF, Symbol
from bpfbuild.obj.spec import Extern, ExternKind

__all__ = ["KCONFIG_SEC", "KSYMS_SEC", "collect_externs", "kconfig_layout", "resolve_externs"]

KCONFIG_SEC = ".kconfig"
KSYMS_SEC = ".ksyms"
TRISTATE = {"n": 0, "y": 1, "m": 2}


@dataclass(frozen=True, slots=True)
class ExternDecl:
    """What the object declares (before resolution)."""

    name: str
    symbol: int            # ELF symbol index (relocations name it)
    btf_id: int            # the VAR / FUNC in the object's BTF
    kind: ExternKind
    weak: bool
    is_func: bool
    local_type: int        # kconfig: the VAR's type; ksym: type under modifiers (0 = untyped); kfunc: proto
    size: int = 0
    align: int = 1
    kcfg_type: str = ""
    signed: bool = False
    offset: int = -1


def _err(message: str) -> ObjectError:
    return ObjectError(message, section=".BTF")


def _kcfg_type(btf: Spec, type_id: int) -> tuple[str, bool]:
    """libbpf's find_kcfg_type: (kind, signed); kind "" when the type cannot hold a Kconfig value."""
    _, t = skip_mods(btf, type_id)
    if isinstance(t, Int):
        if t.is_bool:
            return ("bool" if t.size == 1 else ""), False
        if t.size == 1:
            return "char", t.signed
        if t.size not in (2, 4, 8):
            return "", False
        return "int", t.signed
    if isinstance(t, Enum):
        return ("tristate" if t.size == 4 and t.name == "libbpf_tristate" else ""), False
    if isinstance(t, Enum64):
        return ("tristate" if t.name == "libbpf_tristate" else ""), False
    if isinstance(t, Array):
        if t.nelems == 0 or _kcfg_type(btf, t.type)[0] != "char":
            return "", False
        return "char_array", False
    return "", False


def _extern_sections(btf: Spec) -> dict[int, str]:
    """BTF id of every VAR/FUNC listed in .kconfig / .ksyms -> the section name."""
    out: dict[int, str] = {}
    for name in (KCONFIG_SEC, KSYMS_SEC):
        for tid in btf.find(name, Kind.DATASEC):
            ds = btf.type(tid)
            assert isinstance(ds, Datasec)
            for vsi in ds.vars:
                out[vsi.type] = name
    return out


def _extern_btf_id(btf: Spec, name: str) -> int | None:
    for tid in btf.find(name):
        t = btf.type(tid)
        if isinstance(t, Var | Func) and t.linkage == Linkage.EXTERN:
            return tid
    return None


def collect_externs(symbols: Sequence[Symbol], btf: Spec | None) -> list[ExternDecl]:
    """The object's externs in libbpf's order, ``.kconfig`` offsets assigned."""
    decls: list[ExternDecl] = []
    sections: dict[int, str] | None = None
    for sym in symbols:
        if not (sym.shndx == SHN_UNDEF and sym.bind in ("STB_GLOBAL", "STB_WEAK") and sym.type == "STT_NOTYPE"
                and sym.name):
            continue
        if btf is None:
            raise _err(f"extern '{sym.name}' needs BTF to be resolved (compile with -g)")
        if sections is None:
            sections = _extern_sections(btf)
        btf_id = _extern_btf_id(btf, sym.name)
        if btf_id is None:
            raise _err(f"failed to find BTF for extern '{sym.name}'")
        sec = sections.get(btf_id)
        if sec is None:
            raise _err(f"extern '{sym.name}' is in neither {KCONFIG_SEC} nor {KSYMS_SEC} "
                       "(declare it __kconfig or __ksym)")
        t = btf.type(btf_id)
        weak = sym.bind == "STB_WEAK"
        is_func = isinstance(t, Func)
        if sec == KCONFIG_SEC:
            if is_func:
                raise _err(f"extern function {sym.name} is unsupported under {KCONFIG_SEC} section")
            assert isinstance(t, Var)
            try:
                size = btf.size_of(t.type)
                align = btf.align_of(t.type)
            except BpfBuildError:
                size, align = 0, 1
            if size <= 0:
                raise _err(f"extern (kcfg) '{sym.name}': zero or negative size ({size})")
            kcfg_type, signed = _kcfg_type(btf, t.type)
            if not kcfg_type:
                raise _err(f"extern (kcfg) '{sym.name}': type is unsupported")
            decls.append(ExternDecl(sym.name, sym.index, btf_id, ExternKind.KCONFIG, weak, False, t.type,
                                    size, max(align, 1), kcfg_type, signed))
        else:
            local = skip_mods(btf, t.type)[0] if isinstance(t, Var) else t.type   # type: ignore[union-attr]
            decls.append(ExternDecl(sym.name, sym.index, btf_id, ExternKind.KSYM, weak, is_func, local))
    order = {ExternKind.KCONFIG: 0, ExternKind.KSYM: 1}
    decls.sort(key=lambda d: (order[d.kind], -d.align if d.kind is ExternKind.KCONFIG else 0,
                              d.size if d.kind is ExternKind.KCONFIG else 0, d.name.encode()))
    off = 0
    for i, d in enumerate(decls):
        if d.kind is ExternKind.KCONFIG:
            at = (off + d.align - 1) // d.align * d.align
            decls[i] = replace(d, offset=at)
            off = at + d.size
    return decls


def kconfig_layout(decls: Sequence[ExternDecl]) -> int:
    """Size of the ``.kconfig`` map value: the end of the last ``.kconfig`` extern (0: no map)."""
    ends = [d.offset + d.size for d in decls if d.kind is ExternKind.KCONFIG]
    return ends[-1] if ends else 0


class _Kcfg:
    """Writes values into the .kconfig image with libbpf's set_kcfg_value_* rules."""

    def __init__(self, size: int) -> None:
        self.data = bytearray(size)

    def tri(self, d: ExternDecl, value: str) -> int:
        if d.kcfg_type == "bool":
            if value == "m":
                raise _err(f"extern (kcfg) '{d.name}': value '{value}' implies tristate or char type")
            v = 1 if value == "y" else 0
        elif d.kcfg_type == "tristate":
            v = TRISTATE[value]
        elif d.kcfg_type == "char":
            v = ord(value)
        else:
            raise _err(f"extern (kcfg) '{d.name}': value '{value}' implies bool, tristate, or char type")
        self._store(d, v)
        return v

    def num(self, d: ExternDecl, value: int) -> int:
        if d.kcfg_type not in ("int", "char", "bool"):
            raise _err(f"extern (kcfg) '{d.name}': value '{value}' implies integer, char, or boolean type")
        if d.kcfg_type == "bool" and value > 1:
            raise _err(f"extern (kcfg) '{d.name}': value '{value}' isn't boolean compatible")
        if d.kcfg_type == "int" and d.size < 8:
            bits = d.size * 8
            fits = (value + (1 << (bits - 1))) % (1 << 64) < (1 << bits) if d.signed else value >> bits == 0
            if not fits:
                raise _err(f"extern (kcfg) '{d.name}': value '{value}' doesn't fit in {d.size} bytes")
        self._store(d, value)
        return value

    def string(self, d: ExternDecl, value: str) -> bytes:
        if d.kcfg_type != "char_array":
            raise _err(f"extern (kcfg) '{d.name}': value '{value}' implies char array type")
        if len(value) < 2 or not value.endswith('"'):
            raise _err(f"extern (kcfg) '{d.name}': invalid string config '{value}'")
        raw = value[1:-1].encode("latin-1", "replace")[: d.size - 1]
        self.data[d.offset:d.offset + len(raw) + 1] = raw + b"\0"
        return bytes(self.data[d.offset:d.offset + d.size])

    def _store(self, d: ExternDecl, value: int) -> None:
        fmt = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}.get(d.size)
        if fmt is None:
            raise _err(f"extern (kcfg) '{d.name}': cannot store a number in {d.size} bytes")
        struct.pack_into(fmt, self.data, d.offset, value & ((1 << (8 * d.size)) - 1))


def _parse_u64(text: str) -> int | None:
    """strtoull(text, &end, 0) with the whole string consumed."""
    s = text.strip()
    neg = s.startswith("-")
    body = s[1:] if neg or s.startswith("+") else s
    try:
        if body[:2].lower() == "0x":
            v = int(body[2:], 16)
        elif len(body) > 1 and body.startswith("0"):
            v = int(body[1:], 8)
        else:
            v = int(body, 10)
    except ValueError:
        return None
    return (-v) % (1 << 64) if neg else v


def resolve_externs(decls: Sequence[ExternDecl], btf: Spec | None,
                    target: Target) -> tuple[tuple[Extern, ...], bytes]:
    """Every extern resolved against ``target``; and the ``.kconfig`` map's initial bytes.

    An extern the target cannot answer for (no Kconfig, no BTF, no readable kallsyms) takes its
    zero default with the reason as its source; a strong extern the target *does* know to be
    missing is an error, as libbpf fails the load.
    """
    kcfg = _Kcfg(kconfig_layout(decls))
    out: list[Extern] = []
    fd_index: dict[str, int] = {}   # module -> its slot in fd_array (libbpf: from 1, in first-use order)
    for d in decls:
        if d.kind is ExternKind.KCONFIG:
            out.append(_resolve_kconfig(d, kcfg, target))
            continue
        if d.is_func:
            e = _resolve_kfunc(d, btf, target)
        elif d.local_type:
            e = _resolve_typed_ksym(d, btf, target)
        else:
            e = _resolve_addr_ksym(d, target)
        if e.btf_module and d.is_func:
            e = replace(e, btf_fd_index=fd_index.setdefault(e.btf_module, len(fd_index) + 1))
        out.append(e)
    return tuple(out), bytes(kcfg.data)


def _find_in_target(target: Target, name: str, kind: Kind) -> tuple[Spec, int, str] | None:
    """libbpf's find_ksym_btf_id: vmlinux first, then each module's BTF."""
    tbtf = target.btf_or_none()
    if tbtf is None:
        return None
    ids = tbtf.find(name, kind)
    if ids:
        return tbtf, ids[0], ""
    for module in target.module_btf_names:
        mbtf = target.module_btf(module)
        if mbtf is None:
            continue
        own = [i for i in mbtf.find(name, kind) if i >= mbtf.first_id]
        if own:
            return mbtf, own[0], module
    return None


def _base(d: ExternDecl) -> Extern:
    return Extern(d.name, d.kind, d.btf_id, d.weak, d.is_func, offset=d.offset, size=d.size,
                  kcfg_type=d.kcfg_type, typed=bool(d.local_type) and d.kind is ExternKind.KSYM)


def _unresolved(d: ExternDecl, why: str, *, known_missing: bool, message: str) -> Extern:
    if d.weak:
        return replace(_base(d), value=0 if d.kind is ExternKind.KCONFIG or not d.local_type else None,
                       source=f"__weak default ({why})")
    if known_missing:
        raise TargetMismatch(message, section=".BTF")
    return replace(_base(d), value=0 if d.kind is ExternKind.KCONFIG or not d.local_type else None,
                   source=f"unresolved ({why})")


def _resolve_kconfig(d: ExternDecl, kcfg: _Kcfg, target: Target) -> Extern:
    e = _base(d)
    if d.name.startswith("CONFIG_"):
        cfg = target.kconfig
        have_config = len(cfg) > 0
        text = cfg.get(d.name) if have_config else None
        source = target.kconfig_source or "target Kconfig"
        if text is None:
            return _unresolved(d, f"not set in {source}" if have_config else "target has no Kconfig",
                               known_missing=have_config,
                               message=f"extern '{d.name}' (strong): not resolved")
        if text[:1] in ("y", "n", "m") and len(text) == 1:
            value: int | bytes = kcfg.tri(d, text)
        elif text.startswith('"'):
            value = kcfg.string(d, text)
        else:
            num = _parse_u64(text)
            if num is None:
                raise _err(f"extern (kcfg) '{d.name}': value '{text}' isn't a valid integer")
            if d.kcfg_type not in ("int", "char"):
                raise _err(f"extern (kcfg) '{d.name}': value '{text}' implies integer type")
            value = kcfg.num(d, num)
        return replace(e, value=value, source=source, resolved=True)
    if d.name == "LINUX_KERNEL_VERSION":
        value = kcfg.num(d, target.version_code)
        return replace(e, value=value, source=f"{target.name} {target.version_label}", resolved=True)
    if d.name == "LINUX_HAS_BPF_COOKIE":
        flag, source = target.bpf_cookie
        return replace(e, value=kcfg.num(d, int(flag)), source=source, resolved=True)
    if d.name == "LINUX_HAS_SYSCALL_WRAPPER":
        flag, source = target.syscall_wrapper
        return replace(e, value=kcfg.num(d, int(flag)), source=source, resolved=True)
    if d.name.startswith("LINUX_") and d.weak:
        return replace(e, value=0, source="__weak default (unknown LINUX_ extern)")
    raise _err(f"extern (kcfg) '{d.name}': unrecognized virtual extern")


def _resolve_kfunc(d: ExternDecl, btf: Spec | None, target: Target) -> Extern:
    tbtf = target.btf_or_none()
    if tbtf is None or btf is None:
        return _unresolved(d, "no target BTF", known_missing=False, message="")
    found = _find_in_target(target, essential_name(d.name), Kind.FUNC)
    if found is None:
        return _unresolved(d, "not in target BTF", known_missing=True,
                           message=f"extern (func ksym) '{d.name}': not found in kernel or module BTFs")
    tbtf, kid, module = found
    kfunc = tbtf.type(kid)
    assert isinstance(kfunc, Func)
    if types_are_compat(btf, d.local_type, tbtf, kfunc.type) <= 0:
        return _unresolved(d, "incompatible prototype", known_missing=True,
                           message=f"extern (func ksym) '{d.name}': func_proto [{d.local_type}] incompatible "
                                   f"with {module or 'vmlinux'} [{kfunc.type}]")
    return replace(_base(d), target_btf_id=kid, source=f"target BTF{' (' + module + ')' if module else ''}",
                   resolved=True, btf_module=module)


def _resolve_typed_ksym(d: ExternDecl, btf: Spec | None, target: Target) -> Extern:
    tbtf = target.btf_or_none()
    if tbtf is None or btf is None:
        return _unresolved(d, "no target BTF", known_missing=False, message="")
    found = _find_in_target(target, essential_name(d.name), Kind.VAR)
    if found is None:
        return _unresolved(d, "not in target BTF", known_missing=True,
                           message=f"extern (var ksym) '{d.name}': not found in kernel BTF")
    tbtf, vid, module = found
    var = tbtf.type(vid)
    assert isinstance(var, Var)
    targ_type = skip_mods(tbtf, var.type)[0]
    if types_are_compat(btf, d.local_type, tbtf, targ_type) <= 0:
        raise TargetMismatch(f"extern (var ksym) '{d.name}': incompatible types, expected [{d.local_type}] "
                   f"{btf.name_of(d.local_type)}, but kernel has [{targ_type}] {tbtf.name_of(targ_type)}",
                             section=".BTF")
    return replace(_base(d), target_btf_id=vid, source=f"target BTF{' (' + module + ')' if module else ''}",
                   resolved=True, btf_module=module)


def _resolve_addr_ksym(d: ExternDecl, target: Target) -> Extern:
    if not target.has_kallsyms:
        return _unresolved(d, "no readable kallsyms", known_missing=False, message="")
    addr = target.ksym(essential_name(d.name))
    if addr is None:
        return _unresolved(d, "not in kallsyms", known_missing=True,
                           message=f"extern (ksym) '{d.name}': failed to find kernel symbol")
    return replace(_base(d), value=addr, source="kallsyms", resolved=True)
