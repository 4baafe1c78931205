"""Type compatibility between two BTFs, by libbpf's CO-RE rules (``relo_core.c``).

Three relations, each taking a *local* (program) spec and id and a *target* (kernel) spec and id:

* :func:`types_are_compat` -- for type-based relocations, typed ``__ksym`` variables and kfunc
  prototypes: kinds agree (any two enums agree), integers are not old-style bitfields, pointers,
  arrays and function prototypes recurse; structs, unions, enums and forwards agree by kind alone.
* :func:`fields_are_compat` -- for a matched struct member: composites agree with composites,
  enums and forwards must share their essential name (either anonymous is fine).
* :func:`types_match` -- ``bpf_core_type_matches()``: a deeper, name-aware comparison (every local
  member and enumerator must have a same-named counterpart; integer size and signedness agree;
  behind a pointer a struct may match its forward declaration).

Names are compared by their *essential* part: ``task_struct___v2`` is ``task_struct`` (libbpf's
flavour rule: ``X___Y`` where neither X's last nor Y's first character is an underscore).
All three return 1 (compatible), 0 (not) or -1 (too deep: libbpf's -EINVAL).
"""

from __future__ import annotations

from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import (Array, Enum, Enum64, Float, Func, FuncProto, Fwd, FwdKind, Int, Kind, Pointer,
                                Struct, Type, Union, Void)

__all__ = ["MAX_DEPTH", "essential_name", "essential_name_len", "fields_are_compat", "is_any_enum",
           "is_composite", "kinds_core_compat", "skip_mods", "types_are_compat", "types_match"]

#: libbpf's recursion limit for compatibility checks.
MAX_DEPTH = 32
_MODS = (Kind.TYPEDEF, Kind.CONST, Kind.VOLATILE, Kind.RESTRICT, Kind.TYPE_TAG)


def essential_name_len(name: str) -> int:
    """Length of ``name`` without its ``___flavour`` suffix (the last ``X___Y`` separator counts)."""
    n = len(name)
    for i in range(n - 5, -1, -1):
        if name[i] != "_" and name[i + 1:i + 4] == "___" and name[i + 4] != "_":
            return i + 1
    return n


def essential_name(name: str) -> str:
    return name[:essential_name_len(name)]


def skip_mods(spec: Spec, type_id: int) -> tuple[int, Type]:
    """Follow typedefs, const/volatile/restrict and type tags: the id and record underneath."""
    for _ in range(len(spec) + 1):
        t = spec.type(type_id)
        if t.kind not in _MODS:
            return type_id, t
        type_id = t.type  # type: ignore[union-attr]
    return type_id, spec.type(type_id)


def is_any_enum(t: Type) -> bool:
    return isinstance(t, Enum | Enum64)


def is_composite(t: Type) -> bool:
    return isinstance(t, Struct | Union)


def kinds_core_compat(a: Type, b: Type) -> bool:
    """Same kind, or both enums (32- and 64-bit enums are interchangeable for CO-RE)."""
    return a.kind == b.kind or (is_any_enum(a) and is_any_enum(b))


def _names_essentially_equal(a: str, b: str) -> bool:
    la, lb = essential_name_len(a), essential_name_len(b)
    return la == lb and a[:la] == b[:lb]


def types_are_compat(local: Spec, local_id: int, targ: Spec, targ_id: int, level: int = MAX_DEPTH) -> int:
    """libbpf's ``bpf_core_types_are_compat``: the caller has already matched the names."""
    if not kinds_core_compat(local.type(local_id), targ.type(targ_id)):
        return 0
    depth = MAX_DEPTH
    while True:
        depth -= 1
        if depth < 0:
            return -1
        local_id, lt = skip_mods(local, local_id)
        targ_id, tt = skip_mods(targ, targ_id)
        if not kinds_core_compat(lt, tt):
            return 0
        match lt:
            case Void() | Struct() | Union() | Enum() | Enum64() | Fwd():
                return 1
            case Int():
                return int(lt.offset == 0 and tt.offset == 0)  # type: ignore[union-attr]
            case Pointer():
                local_id, targ_id = lt.type, tt.type  # type: ignore[union-attr]
            case Array():
                local_id, targ_id = lt.type, tt.type  # type: ignore[union-attr]
            case FuncProto():
                assert isinstance(tt, FuncProto)
                if len(lt.params) != len(tt.params):
                    return 0
                for lp, tp in zip(lt.params, tt.params, strict=True):
                    if level <= 0:
                        return -1
                    lid, _ = skip_mods(local, lp.type)
                    tid, _ = skip_mods(targ, tp.type)
                    err = types_are_compat(local, lid, targ, tid, level - 1)
                    if err <= 0:
                        return err
                local_id, _ = skip_mods(local, lt.return_type)
                targ_id, _ = skip_mods(targ, tt.return_type)
            case _:
                return 0


def fields_are_compat(local: Spec, local_id: int, targ: Spec, targ_id: int) -> int:
    """libbpf's ``bpf_core_fields_are_compat``: may a matched member's type be relocated?"""
    for _ in range(MAX_DEPTH * 8):
        local_id, lt = skip_mods(local, local_id)
        targ_id, tt = skip_mods(targ, targ_id)
        if is_composite(lt) and is_composite(tt):
            return 1
        if not kinds_core_compat(lt, tt):
            return 0
        match lt:
            case Pointer() | Float():
                return 1
            case Fwd() | Enum() | Enum64():
                la, ta = essential_name_len(lt.name), essential_name_len(tt.name)
                return int(la == 0 or ta == 0 or (la == ta and lt.name[:la] == tt.name[:ta]))
            case Int():
                return int(lt.offset == 0 and tt.offset == 0)  # type: ignore[union-attr]
            case Array():
                local_id, targ_id = lt.type, tt.type  # type: ignore[union-attr]
            case _:
                return 0
    return -1


def _names_match(a: str, b: str) -> bool:
    """``bpf_core_names_match``: an anonymous target matches only an anonymous local."""
    if not b:
        return not a
    return _names_essentially_equal(a, b)


def _enums_match(lt: Enum | Enum64, tt: Enum | Enum64) -> int:
    if lt.size != tt.size or len(lt.values) > len(tt.values):
        return 0
    for lv in lt.values:
        if not any(_names_match(lv.name, tv.name) for tv in tt.values):
            return 0
    return 1


def types_match(local: Spec, local_id: int, targ: Spec, targ_id: int, behind_ptr: bool = False,
                level: int = MAX_DEPTH) -> int:
    """libbpf's ``bpf_core_types_match`` (``bpf_core_type_matches()``)."""
    if level <= 0:
        return -1
    depth = MAX_DEPTH
    while True:
        depth -= 1
        if depth < 0:
            return -1
        local_id, lt = skip_mods(local, local_id)
        targ_id, tt = skip_mods(targ, targ_id)
        if not _names_match(lt.name, tt.name):
            return 0
        lk, tk = lt.kind, tt.kind
        match lt:
            case Void():
                return int(lk == tk)
            case Fwd():
                local_union = lt.fwd_kind is FwdKind.UNION
                if isinstance(tt, Fwd):
                    return int(local_union == (tt.fwd_kind is FwdKind.UNION))
                if behind_ptr:
                    return int((tk == Kind.STRUCT and not local_union) or (tk == Kind.UNION and local_union))
                return 0
            case Enum() | Enum64():
                if not is_any_enum(tt):
                    return 0
                return _enums_match(lt, tt)  # type: ignore[arg-type]
            case Struct() | Union():
                if behind_ptr:
                    if lk == tk:
                        return 1
                    if not isinstance(tt, Fwd):
                        return 0
                    return int((lk == Kind.UNION) == (tt.fwd_kind is FwdKind.UNION))
                if lk != tk:
                    return 0
                return _composites_match(local, lt, targ, tt, behind_ptr, level)  # type: ignore[arg-type]
            case Int():
                if not isinstance(tt, Int):
                    return 0
                return int(lt.size == tt.size and lt.signed == tt.signed)
            case Pointer():
                if lk != tk:
                    return 0
                behind_ptr = True
                local_id, targ_id = lt.type, tt.type  # type: ignore[union-attr]
            case Array():
                if not isinstance(tt, Array) or lt.nelems != tt.nelems:
                    return 0
                local_id, targ_id = lt.type, tt.type
            case FuncProto():
                if not isinstance(tt, FuncProto) or len(lt.params) != len(tt.params):
                    return 0
                for lp, tp in zip(lt.params, tt.params, strict=True):
                    err = types_match(local, lp.type, targ, tp.type, behind_ptr, level - 1)
                    if err <= 0:
                        return err
                local_id, targ_id = lt.return_type, tt.return_type
            case Func():
                return 0
            case _:
                return 0


def _composites_match(local: Spec, lt: Struct | Union, targ: Spec, tt: Struct | Union, behind_ptr: bool,
                      level: int) -> int:
    if len(lt.members) > len(tt.members):
        return 0
    for lm in lt.members:
        matched = False
        for tm in tt.members:
            if not _names_match(lm.name, tm.name):
                continue
            err = types_match(local, lm.type, targ, tm.type, behind_ptr, level - 1)
            if err < 0:
                return err
            if err > 0:
                matched = True
                break
        if not matched:
            return 0
    return 1
