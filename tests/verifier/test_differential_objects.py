"""Differential testing against the running kernel on real objects: corpus objects with one or two
instructions mutated in place (an immediate or offset nudged, a register or opcode swapped, an
instruction replaced), loaded by libbpf with their maps, BTF and line info.  bpfbuild must give
the kernel's verdict, message, failing instruction and processed-instruction count.

Relocated slots (map loads, calls of subprograms) are left alone, so most mutants still load; those
bpfbuild's loader refuses (a reserved field set) are skipped.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from bpfbuild.errors import BpfBuildError
from bpfbuild.obj.loader import load_object
from bpfbuild.verifier import verify

_SLOT = struct.Struct("<BBhi")
_ALU = [0x07, 0x0F, 0x17, 0x1F, 0x27, 0x57, 0x5F, 0x47, 0x4F, 0x67, 0x77, 0xC7, 0xA7, 0xB7, 0xBF, 0x04, 0x0C,
        0x14, 0x54, 0x64, 0x74, 0xB4, 0xBC]


class _Objects(list):
    def __repr__(self) -> str:  # keep falsifying examples short
        return f"<{len(self)} objects>"


@pytest.fixture(scope="module")
def objects(build_corpus, corpus_lib) -> list[tuple[str, bytes, list[tuple[int, int, set[int]]]]]:
    from elftools.elf.elffile import ELFFile

    out = _Objects()
    for src in corpus_lib.corpus_sources():
        data = Path(build_corpus(src)).read_bytes()
        elf = ELFFile(io.BytesIO(data))
        relocated: dict[str, set[int]] = {}
        for sec in elf.iter_sections():
            if sec["sh_type"] == "SHT_REL":
                target = elf.get_section(sec["sh_info"]).name
                relocated.setdefault(target, set()).update(r["r_offset"] // 8 for r in sec.iter_relocations())
        code = [(sec["sh_offset"], sec["sh_size"] // 8, relocated.get(sec.name, set()))
                for sec in elf.iter_sections()
                if sec["sh_type"] == "SHT_PROGBITS" and sec["sh_flags"] & 4 and sec["sh_size"]]
        out.append((src.name, data, code))
    return out


@st.composite
def _mutant(draw: st.DrawFn, objects: list) -> tuple[str, bytes]:  # type: ignore[type-arg]
    name, data, code = objects[draw(st.integers(0, len(objects) - 1), label="object")]
    buf = bytearray(data)
    off, n, relocated = code[draw(st.integers(0, len(code) - 1))]
    for _ in range(draw(st.integers(1, 2))):
        i = draw(st.integers(0, n - 1))
        op, regs, o, imm = _SLOT.unpack_from(buf, off + 8 * i)
        prev = _SLOT.unpack_from(buf, off + 8 * (i - 1))[0] if i else 0
        if i in relocated or (i - 1) in relocated or op == 0x18 or prev == 0x18 or (op == 0x85 and regs >> 4):
            continue
        dst, src = regs & 15, regs >> 4
        kind = draw(st.sampled_from(["imm", "off", "dst", "src", "opcode", "replace"]))
        if kind == "imm":
            imm = max(-(1 << 31), min((1 << 31) - 1, imm + draw(st.sampled_from([-64, -8, -4, -1, 1, 4, 8, 64]))))
        elif kind == "off":
            o = max(-(1 << 15), min((1 << 15) - 1, o + draw(st.sampled_from([-8, -4, -1, 1, 4, 8]))))
        elif kind == "dst":
            dst = draw(st.integers(0, 9))
        elif kind == "src" and (op & 8 or op & 7 in (1, 3)):
            src = draw(st.integers(0, 10))
        elif kind == "opcode" and op & 7 in (4, 7) and op != 0x85:
            op = draw(st.sampled_from(_ALU))
        elif kind == "replace":
            op, dst, src, o, imm = draw(st.sampled_from([(0xB7, 0, 0, 0, 0), (0xB7, 1, 0, 0, 14), (0x05, 0, 0, 0, 0)]))
        _SLOT.pack_into(buf, off + 8 * i, op, dst | src << 4, o, imm)
    return name, bytes(buf)


@pytest.mark.kernel
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_objects_get_the_kernels_verdict(objects, corpus_lib, build_corpus, kernel_lacks, data):
    from bpfbuild.kernel import verdict

    name, mutant = data.draw(_mutant(objects))
    note(name)
    if kernel_lacks(build_corpus(corpus_lib.CORPUS / name)):
        event("the (simulated) kernel lacks a feature the object uses")
        return
    try:
        spec = load_object(mutant, name="obj")
    except BpfBuildError:
        event("refused by the loader")
        return     # malformed for libbpf too (e.g. a reserved field set): nothing to compare
    for prog in spec.programs:
        kernel = verdict(mutant, prog.name, log_level=1)
        ours = verify(spec, prog)
        if ours.notes:   # verdict unknown (e.g. a helper without a prototype): no claim to compare
            event("unknown")
            continue
        assert ours.accepted == kernel.accepted, (ours.errors, kernel.log[-500:])
        event("accepted" if kernel.accepted else "rejected")
        if not kernel.accepted:
            assert ours.errors[0].message == corpus_lib.kernel_primary_message(kernel.log)
        elif kernel.processed_insns and ours.processed_insns != kernel.processed_insns:
            # exact only on the kernel build the corpus labels were recorded on; elsewhere drift
            assert not corpus_lib.recorded_here(corpus_lib.CORPUS / name), (ours.processed_insns,
                                                                            kernel.processed_insns)
            event("processed count drifts with the kernel build (labels recorded on another)")
