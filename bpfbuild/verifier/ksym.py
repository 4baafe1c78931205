"""``ld_imm64`` of a kernel symbol by its BTF id (``src_reg == BPF_PSEUDO_BTF_ID``), as Linux 6.18 does.

libbpf writes this load for a typed ``extern ... __ksym`` variable (its VAR in the kernel's BTF)
and for the address of a kfunc (``bpf_ksym_exists(kfunc)``: its FUNC); ``imm`` holds the id,
the second slot's ``imm`` the fd of a module's BTF (0: vmlinux).  An untyped (``void``) ksym is
a plain 64-bit constant, its kallsyms address, and never comes here.

Facts followed (kernel/bpf/verifier.c):

* ``check_pseudo_btf_id`` (at ``resolve_pseudo_ldimm64``, before any path is walked): a non-zero
  fd must name a BTF object ("invalid module BTF object FD specified."); fd 0 needs the kernel's
  BTF ("kernel is missing BTF, ...").  ``__check_pseudo_btf_id``: the id must exist ("ldimm64 insn
  specifies invalid btf_id N.") and be a VAR or FUNC ("pseudo btf_id N in ldimm64 isn't KIND_VAR or
  KIND_FUNC"); its name must be in kallsyms ("ldimm64 failed to find the address for kernel symbol
  'X'.").
* What the register becomes (``aux->btf_var``, given to it by ``check_ld_imm``): a FUNC ->
  ``PTR_TO_MEM | MEM_RDONLY`` of size 0; a VAR listed in the ``.data..percpu`` DATASEC ->
  ``PTR_TO_BTF_ID | MEM_PERCPU`` of the VAR's type; a VAR whose type (under typedefs and
  qualifiers) is not a struct or union -> ``PTR_TO_MEM | MEM_RDONLY`` of the type's size ("ldimm64
  unable to resolve the size of type 'X': -22" where it has none); a struct or union ->
  ``PTR_TO_BTF_ID`` of the VAR's type (the id before modifiers are skipped, as the kernel keeps it).

Not modelled (the verdict is then ``unknown``): a BTF object fd the loader passes at run time (a
module's symbol: this library's loader leaves the fd slot 0 and puts the module's id in ``imm``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bpfbuild.btf.compat import skip_mods
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import Datasec, Func, Kind, Struct, Union, Var
from bpfbuild.errors import BpfBuildError
from bpfbuild.isa.instruction import Instruction
from bpfbuild.verifier.bounds import s32
from bpfbuild.verifier.env import Env
from bpfbuild.verifier.state import Reg, RegFlag, RegType

__all__ = ["BtfVar", "btf_var", "check_pseudo_btf_id", "mark_btf_var"]

PERCPU_DATASEC = ".data..percpu"
_EINVAL = 22
#: the fds a loader's stdin/stdout/stderr take: never a BTF object
_STDIO_FDS = 3


@dataclass(frozen=True, slots=True)
class BtfVar:
    """``aux->btf_var``: what ``check_ld_imm`` makes of the destination register."""

    reg_type: int
    btf: object = None
    btf_id: int = 0
    mem_size: int = 0


def btf_var(env: Env, imm: int) -> BtfVar | str:
    """``__check_pseudo_btf_id`` against the target's vmlinux BTF: the register's type, or the
    kernel's message where the load is refused."""
    btf = env.kernel_btf
    if btf is None:
        return "kernel is missing BTF, make sure CONFIG_DEBUG_INFO_BTF=y is specified in Kconfig."
    vid = imm & 0xFFFFFFFF
    if vid >= len(btf):
        return f"ldimm64 insn specifies invalid btf_id {s32(vid)}."
    t = btf.type(vid)
    if not isinstance(t, Var | Func):
        return f"pseudo btf_id {s32(vid)} in ldimm64 isn't KIND_VAR or KIND_FUNC"
    target = env.kernel
    if target.has_kallsyms and target.ksym(t.name) is None:
        return f"ldimm64 failed to find the address for kernel symbol '{t.name}'."
    if isinstance(t, Func):
        return BtfVar(RegType.PTR_TO_MEM | RegFlag.MEM_RDONLY)
    if _is_percpu(btf, vid):
        return BtfVar(RegType.PTR_TO_BTF_ID | RegFlag.MEM_PERCPU, btf, t.type)
    _, under = skip_mods(btf, t.type)
    if isinstance(under, Struct | Union):
        return BtfVar(RegType.PTR_TO_BTF_ID, btf, t.type)
    try:
        size = btf.size_of(under.id) if under.kind is not Kind.VOID else -1
    except BpfBuildError:
        size = -1
    if size < 0 or size > 0xFFFFFFFF:
        return f"ldimm64 unable to resolve the size of type '{under.name}': -{_EINVAL}"
    return BtfVar(RegType.PTR_TO_MEM | RegFlag.MEM_RDONLY, mem_size=size)


def _is_percpu(btf: Spec, vid: int) -> bool:
    """``find_btf_percpu_datasec`` and a search of its variables for ``vid``."""
    for ds_id in btf.find(PERCPU_DATASEC, Kind.DATASEC):
        ds = btf.type(ds_id)
        assert isinstance(ds, Datasec)
        return any(v.type == vid for v in ds.vars)
    return False


def check_pseudo_btf_id(env: Env, i: int, imm: int, hi: int) -> None:
    """``check_pseudo_btf_id`` for the ``ld_imm64`` at slot ``i`` (``hi``: its second slot's imm)."""
    fd = s32(hi)
    if fd != 0:
        if 0 < fd < _STDIO_FDS or fd < 0:
            raise env.error("invalid module BTF object FD specified.", i)
        env.not_modelled(f"insn {i}: ld_imm64 of a symbol in the BTF object of fd {fd}")
        return
    btf = env.kernel_btf
    if btf is not None and (imm & 0xFFFFFFFF) >= len(btf) and env.kernel.module_btf_names:
        # this library's loader leaves a module's fd (known only at load time) 0
        env.not_modelled(f"insn {i}: ld_imm64 of a kernel module's BTF symbol")
        return
    var = btf_var(env, imm)
    if isinstance(var, str):
        raise env.error(var, i)


def mark_btf_var(env: Env, dst: Reg, insn: Instruction) -> None:
    """``check_ld_imm``'s ``BPF_PSEUDO_BTF_ID`` case (``dst`` already a known zero)."""
    var = btf_var(env, insn.imm) if insn.imm_hi == 0 else None
    if not isinstance(var, BtfVar):   # not modelled (a module's symbol): noted at the structural check
        dst.mark_unknown()
        return
    dst.type = var.reg_type
    if var.reg_type & 0xFF == RegType.PTR_TO_MEM:
        dst.mem_size = var.mem_size
    else:
        dst.btf = var.btf
        dst.btf_id = var.btf_id
