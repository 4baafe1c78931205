"""``check_btf_func``'s rule on the functions a program's BTF describes (Linux 6.18).

A function other than the main program that tail-calls (``bpf_tail_call``) or reads packets
with ``LD_ABS``/``LD_IND`` may leave the whole program from inside it, its return value then being
the program's: the kernel asks its BTF prototype (``func_info``) to return a scalar -- an integer
of at most 8 bytes or an enum -- and refuses the program before verifying it otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpfbuild.errors import BpfBuildError

if TYPE_CHECKING:
    from bpfbuild.verifier.env import Env

__all__ = ["check_func_returns"]


def _returns_scalar(btf: object, name: str) -> bool | None:
    """Does the BTF function ``name`` return a small int or an enum?  None: not found."""
    from bpfbuild.btf.types import Enum, Enum64, Func, FuncProto, Int, Kind
    from bpfbuild.verifier.btfid import _skip_mods, find

    try:
        ids = find(btf, name, Kind.FUNC)   # type: ignore[arg-type]
        if len(ids) != 1:
            return None
        func = btf.type(ids[0])   # type: ignore[attr-defined]
        proto = btf.type(func.type) if isinstance(func, Func) else None   # type: ignore[attr-defined]
        if not isinstance(proto, FuncProto):
            return None
        ret = _skip_mods(btf, proto.return_type) if proto.return_type else 0   # type: ignore[arg-type]
        t = btf.type(ret) if ret else None   # type: ignore[attr-defined]
    except (BpfBuildError, KeyError, IndexError):
        return None
    return (isinstance(t, Int) and t.size <= 8) or isinstance(t, (Enum, Enum64))


def check_func_returns(env: Env) -> None:
    """After ``check_subprogs``: the tail-calling or LD_ABS functions (not the main one) return
    a scalar by their BTF prototype."""
    btf = env.prog_btf
    if btf is None or not env.func_names:
        return
    for i, sp in enumerate(env.subprogs):
        if not i or not (sp.has_ld_abs or sp.has_tail_call):
            continue
        name = env.func_names.get(sp.start)
        if not name or _returns_scalar(btf, name) is not False:
            continue
        if sp.has_ld_abs:
            raise env.error("LD_ABS is only allowed in functions that return 'int'.", sp.start)
        raise env.error("tail_call is only allowed in functions that return 'int'.", sp.start)
