"""The specs of programs/ in the kernel: every case whose program type has BPF_PROG_TEST_RUN
(XDP, TC, socket filter, raw tracepoint) runs in Linux through bpfbuild.kernel, from the same
seeded state, and the return values, output packets and maps must equal the emulator's.

The spec's own expectations are checked against the kernel's results too (return values,
globals), so a spec cannot pass by describing an emulator bug.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm import load_spec
from bpfbuild.vm.maps import ArrayMap, HashMap, ProgArray
from bpfbuild.vm.specrun import case_object, retval_text, run_case
from bpfbuild.vm.testspec import CaseSpec, TestSpec
from bpfbuild.vm.typed import same_value

from .conftest import PROGRAMS

pytestmark = pytest.mark.kernel

KERNEL_TYPES = {ProgType.XDP, ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.SOCKET_FILTER,
                ProgType.RAW_TRACEPOINT}
_UNREADABLE = {MapType.PROG_ARRAY, MapType.RINGBUF, MapType.PERF_EVENT_ARRAY}


def _cases() -> list[tuple[str, int, str]]:
    out = []
    for path in sorted(PROGRAMS.glob("*.test.toml")):
        spec = load_spec(path)
        for case in spec.cases:
            out.append((path.name[: -len(".test.toml")], case.index, case.name))
    return out


def _program_name(spec: TestSpec, objspec: Any, run_program: str | None) -> str:
    name = run_program or spec.program
    return name if name is not None else objspec.programs[0].name


def _kernel_maps(ko: Any, objspec: Any) -> dict[str, Any]:
    """Map name as the emulator knows it -> the kernel object's map."""
    out = {}
    for m in objspec.maps:
        out[m.name] = ko.map(m.section if m.is_global_data else m.name)
    return out


def _seed_kernel(ko: Any, objspec: Any, init: Any) -> None:
    """Copy the seeded state of a fresh emulated object (before any run) into the kernel's maps."""
    kmaps = _kernel_maps(ko, objspec)
    for m in objspec.maps:
        raw = init.session.map(m.name)
        handle = kmaps[m.name].handle()
        if m.is_global_data:
            if not m.readonly:
                handle.update(0, bytes(raw.lookup(0)))
        elif isinstance(raw, ProgArray):
            for key in raw:
                prog = raw.lookup(key)
                handle.update(key, struct.pack("<I", ko.program(prog.name).fd))
        elif isinstance(raw, (HashMap, ArrayMap)) and not raw.per_cpu:
            for key, value in raw.items():
                if isinstance(raw, HashMap) or any(value):
                    handle.update(key, bytes(value))


def _ctx_bytes(args: tuple[int, ...] | None) -> bytes:
    return b"".join(struct.pack("<Q", a) for a in args or ())


def run_in_kernel(objpath: Path, objspec: Any, spec: TestSpec, case: CaseSpec) -> dict[str, Any]:
    """Run a case's runs in the kernel: per-run retval and packet out, the maps afterwards."""
    from bpfbuild.kernel import KernelObject

    init = case_object(objspec, case)
    runs = []
    with KernelObject.open(str(objpath)) as ko:
        kmaps = _kernel_maps(ko, objspec)
        for m in objspec.maps:
            if m.is_global_data and m.readonly:   # .rodata: set before load, as a loader does
                kmaps[m.name].initial_value = bytes(init.session.map(m.name).lookup(0))
        ko.load()
        _seed_kernel(ko, objspec, init)
        for run in case.runs:
            prog = ko.program(_program_name(spec, objspec, run.program))
            prog_type = ProgType(prog.type)
            if prog_type is ProgType.RAW_TRACEPOINT:
                for _ in range(run.repeat):
                    result = prog.test_run(ctx=_ctx_bytes(run.args))
                runs.append((result.retval, None))
            else:
                # no packet: the emulator's default, a zeroed 14-byte frame
                result = prog.test_run(run.packet if run.packet is not None else bytes(14), repeat=run.repeat)
                runs.append((result.retval, result.data_out))
        maps = {}
        for name, kmap in kmaps.items():
            if kmap.type in _UNREADABLE:
                continue
            maps[name] = dict(kmap.handle().items())
    return {"runs": runs, "maps": maps}


@pytest.mark.parametrize(("program", "index", "case_name"), _cases(), ids=lambda v: str(v))
def test_spec_case_matches_the_kernel(program: str, index: int, case_name: str,
                                      program_objects: dict[str, Path], program_specs: dict[str, Path],
                                      kernel_lacks) -> None:
    spec = load_spec(program_specs[program])
    case = spec.cases[index]
    objpath = program_objects[program]
    objspec = load_object_file(objpath)
    if case.kernel is not True:
        pytest.skip(f"the spec says: {case.kernel if isinstance(case.kernel, str) else 'not in the kernel'}")
    types = {p.prog_type for p in objspec.programs}
    if not types <= KERNEL_TYPES:
        pytest.skip(f"{', '.join(t.name.lower() for t in types if t)} programs have no BPF_PROG_TEST_RUN")
    if any(run.ctx for run in case.runs):
        pytest.skip("ctx fields are not passed to the kernel by this harness")
    kernel_lacks.skip(objpath)

    emulated = run_case(spec, objspec, case)
    assert emulated.ok, "\n".join(f.render() for f in emulated.failures)
    kernel = run_in_kernel(objpath, objspec, spec, case)

    for record, (retval, packet_out) in zip(emulated.runs, kernel["runs"], strict=True):
        assert record.result is not None
        prog_type = emulated.obj.machine.programs[record.program].prog_type
        assert retval == record.result.retval32, (
            f"run {record.run.index + 1}: kernel {retval_text(retval, prog_type)}, "
            f"emulator {retval_text(record.result, prog_type)}")
        if packet_out is not None and record.result.packet is not None:
            assert packet_out == (record.result.meta or b"") + record.result.packet, f"run {record.run.index + 1}"

    final = emulated.obj
    for name, items in kernel["maps"].items():
        raw = final.session.map(name)
        ours = {bytes(k): bytes(v) for k, v in raw.items()}
        assert items == ours, f"map {name}: kernel {items}, emulator {ours}"

    # the spec's expectations on globals hold for the kernel's final state too
    for gname, value in case.expect.globals.items():
        map_name, offset, size = final.globals.place(gname)
        kernel_bytes = next(iter(kernel["maps"][map_name].values()))[offset:offset + size]
        assert same_value(final.globals.value_type(gname), value, kernel_bytes), f"global {gname} in the kernel"


def test_the_kernel_test_run_hook_agrees_on_hello(program_objects: dict[str, Path]) -> None:
    """bpfbuild.kernel.test_run (one load, BPF_PROG_TEST_RUN repeated) = the emulator's repeat."""
    from bpfbuild.kernel import test_run
    from bpfbuild.vm import load

    kernel = test_run(str(program_objects["hello"]), "hello", packet=bytes(64), repeat=3)
    obj = load(program_objects["hello"])
    result = obj.run(packet=bytes(64), repeat=3)
    assert kernel.retval == result.retval32 == 2
    assert kernel.packet_out == result.packet
    assert kernel.maps_after["hello.bss"] == [(bytes(4), obj.globals.raw("counter"))]
    assert obj.globals.counter == 3


def test_ring_buffer_capacity_matches_the_kernel(compile_bpf: Any, tmp_path: Path) -> None:
    """A 256 KiB ring buffer nobody reads takes 8191 records of 24 bytes (the producer stays
    size - 1 bytes ahead at most), as exec_events.test.toml says."""
    from bpfbuild.kernel import test_run
    from bpfbuild.vm import load

    src = tmp_path / "rb.bpf.c"
    src.write_text('#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n'
                   'struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 256 * 1024); } rb SEC(".maps");\n'
                   '__u64 ok = 0, lost = 0;\n'
                   'SEC("xdp") int fill(struct xdp_md *ctx) {\n'
                   '  char *e = bpf_ringbuf_reserve(&rb, 24, 0);\n'
                   '  if (!e) { lost++; return XDP_PASS; }\n'
                   '  e[0] = 1; bpf_ringbuf_submit(e, 0); ok++; return XDP_PASS; }\n'
                   'char LICENSE[] SEC("license") = "GPL";\n')
    obj_path = compile_bpf(src)
    kernel = test_run(str(obj_path), "fill", packet=bytes(64), repeat=8195)
    obj = load(obj_path)
    obj.run(packet=bytes(64), repeat=8195)
    (_, bss), = kernel.maps_after["rb.bss"]
    assert struct.unpack("<QQ", bss) == (obj.globals.ok, obj.globals.lost) == (8191, 4)
