"""Kernel objects laid out by a BTF: the current task for ``bpf_get_current_task(_btf)``, and
the zeroed objects that typed pointer arguments of tracing programs point to in smoke runs.

An object is a read-only region of the session's memory (a program reads it with direct
loads, as through a ``PTR_TO_BTF_ID``, or with ``bpf_probe_read_kernel`` and CO-RE reads),
filled from a table of fields by :class:`~bpfbuild.vm.typed.BtfType`; a field that is a
pointer to a struct may be given as a table, which becomes an object of its own::

    task = { pid = 7, tgid = 7, comm = "bash", real_parent = { tgid = 1, comm = "init" } }

Argument types come from the target kernel's BTF: ``tp_btf/<tp>`` and ``raw_tp/<tp>`` from
the typedef ``btf_trace_<tp>`` (its first parameter is the tracepoint's ``void *``),
``fentry``/``fexit``/``fmod_ret``/``kprobe``/``kretprobe``/``ksyscall`` from the function
``<name>``, ``lsm/<hook>`` from ``bpf_lsm_<hook>``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

from bpfbuild.btf import types as bt
from bpfbuild.errors import BpfBuildError, NotEmulated, SpecError
from bpfbuild.vm.memory import Memory, RegionKind
from bpfbuild.vm.typed import BtfType

__all__ = ["build_object", "current_task", "function_params", "running_kernel_btf", "typed_args"]

#: where Linux publishes its own BTF
VMLINUX_BTF = "/sys/kernel/btf/vmlinux"

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
    given are zero); return its address."""
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
    return memory.map(bytearray(data), RegionKind.KERNEL, label or vtype.name, writable=False)


def _struct_id(spec: Any, name: str) -> int | None:
    ids = spec.find(name, bt.Struct)
    return ids[0] if ids else None


#: task_struct pointers that lead to a task which, for a task given without them, is the
#: task itself (as init_task's are): a program following them finds a task, not NULL
_SELF_POINTERS = ("real_parent", "parent", "group_leader")


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
        addr = build_object(memory, kernel_btf, type_id, fields, label="current task_struct")
    except SpecError as exc:
        raise SpecError(f"world.task: {exc.message}") from None
    members = BtfType(kernel_btf, type_id)._members(kernel_btf.type(type_id))
    buf = memory.regions[addr >> 32].buf
    for name in _SELF_POINTERS:
        found = members.get(name)
        if found is not None and name not in fields and _pointee(kernel_btf, found[0].type) == type_id:
            at = (found[0].bit_offset + found[1]) // 8
            buf[at:at + 8] = addr.to_bytes(8, "little")
    return addr


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
        if kind in ("fentry", "fexit", "fmod_ret", "kprobe", "kretprobe", "lsm", "lsm.s", "fentry.s",
                    "fexit.s", "fmod_ret.s"):
            name = f"bpf_lsm_{target}" if kind.startswith("lsm") else target.split("+")[0]
            ids = kernel_btf.find(name, bt.Func)
            if not ids:
                return None
            proto = kernel_btf.type(kernel_btf.type(ids[0]).type)
            if not isinstance(proto, bt.FuncProto):
                return None
            return tuple(p.type for p in proto.params)
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
    """The target BTF when none is given: the running kernel's (``bpfbuild.abi.target`` when
    it is there, else the kernel's own file), None where unreadable.  Decoded once."""
    try:
        from bpfbuild.abi.target import Target
    except ImportError:
        Target = None  # noqa: N806
    try:
        if Target is not None:
            return Target.running().btf
        if os.access(VMLINUX_BTF, os.R_OK):
            from bpfbuild.btf.spec import Spec

            return Spec.from_file(VMLINUX_BTF)
    except BpfBuildError:
        return None
    return None
