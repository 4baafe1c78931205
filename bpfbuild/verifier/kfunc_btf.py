"""Which kernel function a ``call`` (src_reg ``BPF_PSEUDO_KFUNC_CALL``) names, from the target
kernel's BTF -- what the control-flow and liveness passes need before any path is explored
(``fetch_kfunc_meta`` as ``visit_insn`` and ``get_call_summary`` use it).  The call's checks
are :mod:`bpfbuild.verifier.kfuncs`.
"""

from __future__ import annotations

from bpfbuild.abi.kfuncs import KF, kfunc_allowed, kfunc_info
from bpfbuild.errors import BpfBuildError
from bpfbuild.isa.instruction import Instruction
from bpfbuild.verifier.env import Env

__all__ = ["btf_func", "is_iter_next_call", "is_sync_callback_kfunc", "kfunc_nargs"]


def btf_func(env: Env, insn: Instruction) -> tuple[object, object, str] | None:
    """(btf, func_proto, name) of the call's kfunc in the target kernel's BTF, None if absent."""
    if insn.off != 0 or insn.imm <= 0:
        return None
    btf = env.kernel_btf
    if btf is None:
        return None
    from bpfbuild.btf.types import Func, FuncProto

    try:
        func = btf.type(insn.imm)
        if not isinstance(func, Func):
            return None
        proto = btf.type(func.type)
    except (BpfBuildError, KeyError, IndexError):
        return None
    if not isinstance(proto, FuncProto):
        return None
    return btf, proto, func.name


def is_iter_next_call(env: Env, insn: Instruction) -> bool:
    """Is this call a ``bpf_iter_*_next`` (a forced checkpoint, ``is_iter_next_kfunc``)?"""
    found = btf_func(env, insn)
    if found is None:
        return False
    info = kfunc_info(found[2])
    return info is not None and bool(info.flags & KF.ITER_NEXT) and kfunc_allowed(info.name, env.prog_type) is True


def is_sync_callback_kfunc(env: Env, insn: Instruction) -> bool:
    """``is_sync_callback_calling_kfunc``: bpf_rbtree_add's ``less`` is called during the call."""
    found = btf_func(env, insn)
    return found is not None and found[2] == "bpf_rbtree_add_impl"


def kfunc_nargs(env: Env, insn: Instruction) -> int | None:
    """How many argument registers the call reads (``get_call_summary``); None if unknown."""
    found = btf_func(env, insn)
    if found is None:
        return None
    _btf, proto, name = found
    if kfunc_allowed(name, env.prog_type) is False:
        return None
    return len(proto.params)   # type: ignore[attr-defined]
