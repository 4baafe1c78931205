"""Kernel objects laid out by a BTF: the current task for ``bpf_get_current_task(_btf)``, and
the zeroed objects that typed pointer arguments of tracing programs point to in smoke runs.

An object is a read-only region of the session's memory (a program reads it with direct
loads, as through a ``PTR_TO_BTF_ID``, or with ``bpf_probe_read_kernel`` and CO-RE reads),
filled from a table of fields by :class:`~bpfbuild.vm.typed.BtfType`; a field that is a
pointer to a struct may be given as a table, which becomes an object of its own::

    task = { pid = 7, tgid = 7, comm = "bash", real_parent = { tgid = 1, comm = "init" } }

Argument types come from the target kernel's BTF: ``tp_btf/<tp>`` and ``raw_tp/<tp>`` from
the typedef ``btf_trace_<tp>`` (its first parameter is the tracepoint's ``void *``),
``fentry``/``fexit``/``fmod_ret``/``kprobe``/``kretprobe`` from the function ``<name>``,
``ksyscall/<name>`` from the syscall's wrapper (``__x64_sys_<name>``: a ``struct pt_regs *``),
``lsm/<hook>`` from ``bpf_lsm_<hook>``, ``iter/<target>`` from ``struct bpf_iter__<target>``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from bpfbuild.btf import types as bt
from bpfbuild.errors import BpfBuildError, NotEmulated, SpecError
from bpfbuild.vm.memory import Memory, RegionKind
from bpfbuild.vm.typed import BtfType, btf_type_named

__all__ = ["btf_file", "build_object", "current_task", "function_params", "kernel_type", "running_kernel_btf",
           "target_btf_of", "typed_args"]


#: how many bytes a pointer to something that is not a struct (``char *``, ``void *``) gets
PLAIN_BUFFER = 256


def _strip(spec: Any, type_id: int) -> int:
    """Through typedefs and qualifiers."""
    while True:
        t = spec.type(type_id)
        if isinstance(t, (bt.Typedef, bt.Const, bt.Volatile, bt.Restrict, bt.TypeTag)):
            type_id = t.type
            continue
        return type_id


def _pointee(spec: Any, type_id: int) -> int | None:
    """The type a pointer type points to (through typedefs), None for a non-pointer."""
    t = spec.type(_strip(spec, type_id))
    if isinstance(t, bt.Pointer):
        return _strip(spec, t.type) if t.type else 0
    return None


def build_object(memory: Memory, spec: Any, type_id: int, fields: Mapping[str, Any] | None = None,
                 *, label: str = "") -> int:
    """Map a read-only object of BTF type ``type_id`` filled with ``fields`` (members not
    given are zero; a task_struct's real_parent, parent and group_leader are the task
    itself); return its address."""
    vtype = BtfType(spec, type_id)
    values = dict(fields or {})
    t = spec.type(_strip(spec, type_id))
    if isinstance(t, (bt.Struct, bt.Union)):
        members = vtype._members(t)
        for key, item in list(values.items()):
            found = members.get(key)
            if found is None or not isinstance(item, Mapping):
                continue   # BtfType.encode names unknown members
            target = _pointee(spec, found[0].type)
            if target:
                values[key] = build_object(memory, spec, target, item, label=f"{label}.{key}")
    size = max(vtype.size, 1)
    data = vtype.encode(values) if values else bytes(size)
    addr = memory.map(bytearray(data), RegionKind.KERNEL, label or vtype.name, writable=False)
    if isinstance(t, bt.Struct) and t.name == "task_struct":
        _point_to_self(memory, spec, _strip(spec, type_id), t, addr, values)
    return addr


#: task_struct pointers that lead to a task which, for a task given without them, is the
#: task itself (as init_task's are): a program following them finds a task, not NULL
_SELF_POINTERS = ("real_parent", "parent", "group_leader")


def _point_to_self(memory: Memory, spec: Any, type_id: int, t: bt.Struct, addr: int,
                   given: Mapping[str, Any]) -> None:
    members = BtfType(spec, type_id)._members(t)
    buf = memory.regions[addr >> 32].buf
    for name in _SELF_POINTERS:
        found = members.get(name)
        if found is not None and name not in given and _pointee(spec, found[0].type) == type_id:
            at = (found[0].bit_offset + found[1]) // 8
            buf[at:at + 8] = addr.to_bytes(8, "little")


def _struct_id(spec: Any, name: str) -> int | None:
    ids = spec.find(name, bt.Struct)
    return ids[0] if ids else None


def current_task(memory: Memory, kernel_btf: Any, fields: Mapping[str, Any]) -> int:
    """The current ``struct task_struct`` as the target BTF lays it out, with ``fields``
    (``kernel_btf`` may be a function returning the BTF, called now)."""
    if callable(kernel_btf):
        kernel_btf = kernel_btf()
    if kernel_btf is None:
        raise NotEmulated("bpf_get_current_task(_btf): a task object needs the target kernel's BTF")
    type_id = _struct_id(kernel_btf, "task_struct")
    if type_id is None:
        raise NotEmulated("bpf_get_current_task(_btf): the target BTF has no struct task_struct")
    try:
        return build_object(memory, kernel_btf, type_id, fields, label="current task_struct")
    except SpecError as exc:
        raise SpecError(f"world.task: {exc.message}") from None


def function_params(kernel_btf: Any, section: str) -> tuple[int, ...] | None:
    """The BTF type ids of the arguments a tracing program's attach target passes, from the
    program's section name; None when the target is not known to the BTF."""
    kind, _, target = section.partition("/")
    kind = kind.lstrip("?")   # libbpf's "no autoload" mark
    if not target:
        return None
    target = target.split(":")[-1].split("/")[-1] if kind in ("tp_btf", "raw_tp", "raw_tracepoint") else target
    try:
        if kind in ("tp_btf", "raw_tp", "raw_tracepoint", "raw_tp.w", "raw_tracepoint.w"):
            ids = kernel_btf.find(f"btf_trace_{target}", bt.Typedef)
            if not ids:
                return None
            proto_id = _pointee(kernel_btf, ids[0])
            proto = kernel_btf.type(proto_id) if proto_id else None
            if not isinstance(proto, bt.FuncProto):
                return None
            return tuple(p.type for p in proto.params[1:])
        if kind in ("fentry", "fexit", "fmod_ret", "kprobe", "lsm", "lsm.s", "fentry.s",
                    "fexit.s", "fmod_ret.s"):
            name = f"bpf_lsm_{target}" if kind.startswith("lsm") else target.split("+")[0]
            ids = kernel_btf.find(name, bt.Func)
            if not ids:
                return None
            proto = kernel_btf.type(kernel_btf.type(ids[0]).type)
            if not isinstance(proto, bt.FuncProto):
                return None
            return tuple(p.type for p in proto.params)
        if kind in ("iter", "iter.s"):
            # the context is struct bpf_iter__<target>: meta, then the iterated objects
            ids = kernel_btf.find(f"bpf_iter__{target}", bt.Struct)
            if not ids:
                return None
            out = []
            for m in kernel_btf.type(ids[0]).members:
                t = kernel_btf.type(_strip(kernel_btf, m.type))
                # each is __bpf_md_ptr(): a pointer wrapped in a one-member union
                out.append(t.members[0].type if isinstance(t, bt.Union) and t.members else m.type)
            return tuple(out)
        if kind == "ksyscall":
            # the syscall's wrapper: its one argument is the user's struct pt_regs
            for prefix in ("__x64_sys_", "__arm64_sys_", "__s390x_sys_", "__riscv_sys_", "__se_sys_", "sys_"):
                ids = kernel_btf.find(prefix + target, bt.Func)
                if ids:
                    proto = kernel_btf.type(kernel_btf.type(ids[0]).type)
                    return tuple(p.type for p in proto.params) if isinstance(proto, bt.FuncProto) else None
            return None
    except BpfBuildError:
        return None
    return None


def typed_args(memory: Memory, kernel_btf: Any, params: tuple[int, ...]) -> tuple[int, ...]:
    """An argument per parameter: a zeroed object of the pointee's type for a pointer (a
    zeroed buffer when it is not a struct or union), 0 for anything else."""
    out = []
    for i, type_id in enumerate(params):
        target = _pointee(kernel_btf, type_id) if type_id else None
        if target is None:
            out.append(0)
            continue
        t = kernel_btf.type(target) if target else None
        if isinstance(t, (bt.Struct, bt.Union)) and kernel_btf.size_of(target):
            out.append(build_object(memory, kernel_btf, target, label=f"arg{i} {BtfType(kernel_btf, target).name}"))
        else:
            out.append(memory.map(bytearray(PLAIN_BUFFER), RegionKind.KERNEL, f"arg{i}", writable=False))
    return tuple(out)


@functools.cache
def running_kernel_btf() -> Any:
    """The target BTF when none is given: the running kernel's (``bpfbuild.abi.target``), None
    where unreadable.  Decoded once per file (shared with :func:`btf_file`)."""
    from bpfbuild.abi.target import Target

    path = Target.running().btf_path
    return btf_file(path) if path else None


@functools.cache
def btf_file(path: str) -> Any:
    """A BTF file (a target's vmlinux BTF), decoded once; None where unreadable."""
    from bpfbuild.btf.spec import Spec

    try:
        return Spec.from_file(path)
    except (OSError, BpfBuildError):
        return None


def target_btf_of(objspec: Any) -> Any:
    """The BTF an object's CO-RE relocations were resolved against (what its field offsets
    now follow), else the running kernel's."""
    core = getattr(objspec, "core", None)
    path = getattr(core, "btf", None) if core is not None else None
    if path:
        return btf_file(path)
    return running_kernel_btf()


def kernel_type(objspec: Any, name: str) -> BtfType:
    """A kernel type (``"struct task_struct"``) laid out as the object's program reads it: by
    the target BTF its CO-RE relocations were resolved against, or by the object's own BTF
    when it was not relocated or the target lacks the type (what ``kernel_memory`` uses)."""
    core = getattr(objspec, "core", None)
    if core is not None and core.applied and getattr(core, "btf", None):
        target = btf_file(core.btf)
        if target is not None:
            try:
                return btf_type_named(target, name)
            except SpecError:
                pass
    if objspec.btf is None:
        raise SpecError("the object has no BTF: give the bytes as hex or a layout")
    return btf_type_named(objspec.btf, name)
