"""The object reader on real objects: programs, maps, globals, relocations, tags; bad input."""

from __future__ import annotations

import random
import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.abi.maptypes import MapType
from bpfbuild.errors import BpfBuildError, ObjectError
from bpfbuild.isa.fields import PseudoLoad
from bpfbuild.obj.dump import objdump_text
from bpfbuild.obj.loader import internal_map_name, load_object, load_object_file, object_name
from bpfbuild.obj.tag import kernel_tag_hash, program_tag


def test_hello_programs_maps_and_globals(built):
    spec = load_object_file(built / "hello.bpf.o")
    assert spec.name == "hello" and spec.license == "Dual BSD/GPL" and spec.gpl_compatible
    (prog,) = spec.programs
    assert (prog.name, prog.section, prog.prog_type.name) == ("hello", "xdp", "XDP")
    assert prog.slot_count == 12 and prog.bytes_xlated == 96
    assert [m.name for m in spec.maps] == ["hello.bss", "hello.rodata"]
    rodata = spec.map("hello.rodata")
    assert rodata.readonly and rodata.initial == b"Hello World %d\0"
    assert [(v.name, v.offset, v.size) for v in spec.map("hello.bss").variables] == [("counter", 0, 4)]
    # both ld_imm64 point at the global data maps, as libbpf relocates them
    loads = [i for i in prog.insns if i.is_ld_imm64]
    assert [(i.src, spec.maps[i.imm].name, i.imm_hi) for i in loads] == [
        (PseudoLoad.MAP_VALUE, "hello.bss", 0), (PseudoLoad.MAP_VALUE, "hello.rodata", 0)]
    loc = prog.source_location(0)
    assert loc.file.endswith("hello.bpf.c") and loc.line == 9


def test_tags_match_the_kernels_on_the_users_hello(built):
    """Measured: d35b94b4c0c10efb (SHA-1 kernels), 490c48c1179970a8 (Linux 6.18, SHA-256).
    The exact bytes come from clang 14; other compilers give other (still consistent) tags."""
    version = subprocess.run(["clang", "--version"], capture_output=True, text=True).stdout \
        if shutil.which("clang") else ""
    prog = load_object_file(built / "hello.bpf.o").programs[0]
    if "version 14." not in version:
        pytest.skip("the measured tags are of clang 14's build")
    assert program_tag(prog.insns, "sha1") == "d35b94b4c0c10efb"
    assert program_tag(prog.insns, "sha256") == "490c48c1179970a8"


def test_tag_ignores_map_fds_and_offsets(built):
    prog = load_object_file(built / "hello.bpf.o").programs[0]
    moved = tuple(i.__class__(i.opcode, i.dst, i.src, i.off, i.imm + 7, i.imm_hi + 3) if i.is_ld_imm64 else i
                  for i in prog.insns)
    assert program_tag(moved, "sha256") == program_tag(prog.insns, "sha256")
    mov = prog.insns[3]   # r2 = 15
    changed = prog.insns[:3] + (mov.__class__(mov.opcode, mov.dst, mov.src, mov.off, mov.imm + 1, 0),) + prog.insns[4:]
    assert program_tag(changed, "sha256") != program_tag(prog.insns, "sha256")


def test_kernel_tag_hash_by_release():
    assert kernel_tag_hash("6.1.0-18-amd64") == "sha1"
    assert kernel_tag_hash("6.18.4") == "sha256"
    assert kernel_tag_hash("7.0.0") == "sha256"


def test_subprogram_is_appended_and_the_call_relocated(built):
    spec = load_object_file(built / "hello-func.bpf.o")
    (prog,) = spec.programs
    call = prog.insns[0]
    target = 0 + call.imm + 1
    assert [f.name for f in prog.func_info] == ["hello", "get_opcode"]
    assert [f.pc for f in prog.func_info] == [0, target]
    assert prog.slot_count == prog.main_slots + 2   # get_opcode: two instructions appended


def test_btf_hash_map_and_prog_array(built):
    maps = {m.name: m for m in load_object_file(built / "xdp_proto_count.bpf.o").maps}
    pc = maps["proto_count"]
    assert (pc.type, pc.key_size, pc.value_size, pc.max_entries) == (MapType.HASH, 4, 8, 256)
    maps = {m.name: m for m in load_object_file(built / "xdp_tail_call.bpf.o").maps}
    assert maps["handlers"].type == MapType.PROG_ARRAY
    ring = load_object_file(built / "exec_events.bpf.o").map("events")
    assert (ring.type, ring.max_entries) == (MapType.RINGBUF, 256 * 1024)


def test_libbpf_internal_map_names():
    assert object_name("build/hello.bpf.o") == "hello"
    assert internal_map_name("hello", ".bss") == "hello.bss"
    assert internal_map_name("xdp_proto_count", ".rodata") == "xdp_prot.rodata"
    assert internal_map_name("hello-func", ".rodata") == "hello_fu.rodata"
    assert internal_map_name("hello", ".rodata.str1.1") == ".rodata.str1.1"


@pytest.mark.llvm
def test_disassembly_equals_llvm_objdump(objects):
    if shutil.which("llvm-objdump") is None:
        pytest.skip("llvm-objdump not installed")

    def norm(text: str) -> list[str]:
        return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()
                if line.strip() and "file format" not in line]

    for obj in objects:
        ours = objdump_text(load_object_file(obj))
        theirs = subprocess.run(["llvm-objdump", "-d", str(obj)], capture_output=True, text=True, check=True).stdout
        assert norm(ours) == norm(theirs), obj.name


def test_bad_inputs_are_one_line_errors(tmp_path, built):
    good = (built / "hello.bpf.o").read_bytes()
    cases = {
        "empty": b"",
        "text": b"hello world\n",
        "truncated": good[:200],
        "elf32": good[:4] + b"\x01" + good[5:],
    }
    x86 = bytearray(good)
    x86[18:20] = (62).to_bytes(2, "little")   # EM_X86_64
    cases["x86"] = bytes(x86)
    for name, data in cases.items():
        path = tmp_path / f"{name}.o"
        path.write_bytes(data)
        with pytest.raises(ObjectError) as err:
            load_object_file(path)
        assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
    with pytest.raises(ObjectError, match="not a BPF object"):
        load_object(cases["x86"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_objects_only_raise_our_errors(built, data):
    """Flip bytes, truncate, or splice real objects: a clean BpfBuildError or a result, never a crash."""
    objs = sorted(built.glob("*.bpf.o"))
    raw = bytearray(data.draw(st.sampled_from(objs)).read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    try:
        load_object(bytes(raw))
    except BpfBuildError:
        pass


def test_random_section_corruption_is_caught(built):
    """Targeted: corrupt each section's bytes in turn (BTF, BTF.ext, code, relocations)."""
    import struct
    good = (built / "xdp_tail_call.bpf.o").read_bytes()
    rng = random.Random(1)
    shoff = struct.unpack_from("<Q", good, 0x28)[0]
    shnum = struct.unpack_from("<H", good, 0x3C)[0]
    for i in range(1, shnum):
        off, size = struct.unpack_from("<QQ", good, shoff + i * 64 + 0x18)
        if size == 0 or off + size > len(good):
            continue
        for _ in range(5):
            raw = bytearray(good)
            for _ in range(4):
                raw[off + rng.randrange(size)] = rng.randrange(256)
            try:
                load_object(bytes(raw))
            except BpfBuildError:
                pass
