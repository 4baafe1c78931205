"""``bpf_per_cpu_ptr`` / ``bpf_this_cpu_ptr``: one CPU's copy of a per-CPU object, as Linux 6.18
types it (kernel/bpf/verifier.c: ``check_reg_type`` with ``percpu_btf_ptr_types``,
``check_func_arg``'s ARG_PTR_TO_PERCPU_BTF_ID, ``check_helper_call``'s RET_PTR_TO_MEM_OR_BTF_ID).

* The argument is a ``PTR_TO_BTF_ID | MEM_PERCPU`` register, plain (a typed per-CPU ``__ksym``),
  RCU (a ``__percpu_kptr`` loaded from a map value in an RCU section) or trusted; it must carry a
  BTF id ("Helper has invalid btf_id in R1").
* An RCU one is an object of the program's own struct from ``bpf_percpu_obj_new``: the result is
  that CPU's object, ``PTR_TO_BTF_ID | MEM_ALLOC | MEM_RCU`` (never NULL, even from
  bpf_per_cpu_ptr); its type must be a struct ("Helper has invalid btf/btf_id in R1").
* ``bpf_kptr_xchg`` stashing such an object (from ``bpf_percpu_obj_new``) in a map value releases
  its reference; inside an RCU section the registers that held it stay usable as RCU per-CPU
  pointers (``PTR_TO_BTF_ID | MEM_PERCPU | MEM_RCU``), elsewhere they are invalid.
* Otherwise a struct gives ``PTR_TO_BTF_ID`` (maybe NULL from bpf_per_cpu_ptr), anything else
  read-only memory of the type's size (``PTR_TO_MEM | MEM_RDONLY``; "unable to resolve the size of
  type 'X': -22" where it has none).
"""

from __future__ import annotations

from bpfbuild.btf.compat import skip_mods
from bpfbuild.btf.types import Kind, Struct, Union
from bpfbuild.errors import BpfBuildError
from bpfbuild.verifier.env import Env
from bpfbuild.verifier.state import Reg, RegFlag, RegType, VerifierState
from bpfbuild.verifier.transfer import mark_reg_invalid

__all__ = ["ARG_TYPES", "check_arg", "check_call", "helper_return", "release_xchg_reference"]

_EINVAL = 22
#: ``percpu_btf_ptr_types``
ARG_TYPES = (RegType.PTR_TO_BTF_ID | RegFlag.MEM_PERCPU,
             RegType.PTR_TO_BTF_ID | RegFlag.MEM_PERCPU | RegFlag.MEM_RCU,
             RegType.PTR_TO_BTF_ID | RegFlag.MEM_PERCPU | RegFlag.PTR_TRUSTED)


def check_arg(env: Env, regno: int, reg: Reg) -> None:
    """``check_func_arg``'s ARG_PTR_TO_PERCPU_BTF_ID case."""
    if not reg.btf_id or reg.btf is None:
        raise env.error(f"Helper has invalid btf_id in R{regno}")


def check_call(env: Env, r1: Reg) -> Reg:
    """``check_helper_call``'s per_cpu_ptr/this_cpu_ptr case; returns the argument (for r0)."""
    if r1.type & RegFlag.MEM_RCU:
        try:
            t = r1.btf.type(r1.btf_id)   # type: ignore[union-attr]
        except (BpfBuildError, KeyError, IndexError, AttributeError):
            t = None
        if not isinstance(t, Struct | Union):
            raise env.error("Helper has invalid btf/btf_id in R1")
    return r1.copy()


def helper_return(env: Env, src: Reg, ret_flags: int) -> Reg:
    """r0 (``RET_PTR_TO_MEM_OR_BTF_ID | ret_flags``) for the per-CPU pointer ``src``."""
    btf = src.btf
    r0 = Reg()
    r0.mark_known_zero()
    _tid, t = skip_mods(btf, src.btf_id)   # type: ignore[arg-type]
    if not isinstance(t, Struct | Union):
        try:
            size = btf.size_of(t.id) if t.kind is not Kind.VOID else -1   # type: ignore[union-attr]
        except BpfBuildError:
            size = -1
        if size < 0:
            raise env.error(f"unable to resolve the size of type '{t.name}': -{_EINVAL}")
        r0.type = RegType.PTR_TO_MEM | ret_flags
        r0.mem_size = size
        return r0
    if src.type & RegFlag.MEM_RCU:
        r0.type = RegType.PTR_TO_BTF_ID | RegFlag.MEM_ALLOC | RegFlag.MEM_RCU
    else:
        r0.type = RegType.PTR_TO_BTF_ID | (ret_flags & ~RegFlag.MEM_RDONLY)
    r0.btf = btf
    r0.btf_id = src.btf_id
    return r0


def release_xchg_reference(env: Env, st: VerifierState, ref_obj_id: int) -> bool:
    """``check_helper_call``'s release of bpf_kptr_xchg's object (False: no such reference)."""
    if not any(r.id == ref_obj_id for r in st.refs):
        return False
    st.refs = [r for r in st.refs if r.id != ref_obj_id]
    in_rcu = st.active_rcu_lock or bool(st.active_locks) or not env.sleepable
    for reg in st.all_regs():
        if reg.ref_obj_id != ref_obj_id:
            continue
        if in_rcu and reg.type & RegFlag.MEM_ALLOC and reg.type & RegFlag.MEM_PERCPU:
            reg.ref_obj_id = 0
            reg.type = (reg.type & ~RegFlag.MEM_ALLOC) | RegFlag.MEM_RCU
        else:
            mark_reg_invalid(env, reg)
    return True
