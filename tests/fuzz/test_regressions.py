"""Every reproducer of issue 15 that needs no kernel: one clean line and a non-zero exit, or the
right answer."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from bpfbuild.btf.spec import Spec
from bpfbuild.btf.value import btf_value
from bpfbuild.errors import BpfBuildError, BTFError, ObjectError, SpecError
from bpfbuild.inputs import read_input
from bpfbuild.obj.loader import MAX_DATA_SECTION, load_object
from bpfbuild.vm.testspec import MAX_REPEAT, parse_spec

from .harness import run_cli


def _elf_sections(data: bytes) -> list[tuple[int, int, int, int]]:
    """(header offset, sh_name, sh_type, sh_size) of each section header of an ELF64 LE object."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shnum, = struct.unpack_from("<H", data, 0x3C)
    out = []
    for i in range(shnum):
        at = shoff + i * 64
        name, stype = struct.unpack_from("<II", data, at)
        size, = struct.unpack_from("<Q", data, at + 32)
        out.append((at, name, stype, size))
    return out


def _section_named(data: bytes, wanted: str) -> int:
    shstrndx, = struct.unpack_from("<H", data, 0x3E)
    secs = _elf_sections(data)
    strtab_off, = struct.unpack_from("<Q", data, secs[shstrndx][0] + 24)
    for at, name, _, _ in secs:
        end = data.index(b"\0", strtab_off + name)
        if data[strtab_off + name:end].decode() == wanted:
            return at
    raise LookupError(wanted)


def _with_bss(obj: bytes, size: int) -> bytes:
    at = _section_named(obj, ".bss")
    return obj[:at + 32] + struct.pack("<Q", size) + obj[at + 40:]


@pytest.mark.parametrize("size", [MAX_DATA_SECTION + 1, 1 << 40, (1 << 64) - 1])
def test_a_huge_nobits_bss_is_one_object_error(real_objects, size):
    obj = _with_bss(real_objects["hello"], size)
    with pytest.raises(ObjectError, match="larger than any map value"):
        load_object(obj)


def test_e_shnum_zero_is_an_error_not_an_empty_object(real_objects, tmp_path):
    obj = bytearray(real_objects["hello"])
    obj[0x3C:0x3E] = b"\0\0"
    with pytest.raises(ObjectError, match="no section headers"):
        load_object(bytes(obj))
    path = tmp_path / "x.bpf.o"
    path.write_bytes(bytes(obj))
    for argv in (["show", str(path)], ["skel", str(path), "-o", str(tmp_path / "x.h")]):
        out = run_cli(argv)
        assert out.kind == "error" and "no section headers" in out.detail
    assert not (tmp_path / "x.h").exists()


def test_an_sht_louser_section_is_read_not_an_int_error(real_objects):
    obj = bytearray(real_objects["hello"])
    at = _section_named(bytes(obj), ".BTF.ext") if b".BTF.ext" in obj else _section_named(bytes(obj), ".comment")
    struct.pack_into("<I", obj, at + 4, 0x80000000)     # SHT_LOUSER
    try:
        load_object(bytes(obj))
    except BpfBuildError as exc:
        assert "invalid literal" not in str(exc)


def _btf(types: bytes, strings: bytes) -> bytes:
    hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return hdr + types + strings


def test_a_btf_type_cycle_is_one_line_not_a_recursion_error():
    # [1] typedef a -> [2], [2] typedef b -> [1]: a cycle btf_value would follow forever
    strings = b"\0a\0b\0"
    types = struct.pack("<III", 1, 8 << 24, 2) + struct.pack("<III", 3, 8 << 24, 1)
    try:
        spec = Spec.from_bytes(_btf(types, strings))
    except BTFError:
        return   # refused at parse time: also one line
    with pytest.raises(BTFError):
        btf_value(spec, 1, b"\0" * 8)


def test_a_struct_that_contains_itself_through_an_array_is_one_line():
    # [1] struct s { [2] m; } size 4, [2] array of [1] x 1
    strings = b"\0s\0m\0"
    struct_s = struct.pack("<III", 1, (4 << 24) | 1, 4) + struct.pack("<III", 3, 2, 0)
    int_t = struct.pack("<IIII", 0, 1 << 24, 4, 32)
    array = struct.pack("<III", 0, 3 << 24, 0) + struct.pack("<III", 1, 3, 1)
    try:
        spec = Spec.from_bytes(_btf(struct_s + array + int_t, strings))
        btf_value(spec, 1, b"\0" * 4)
    except BpfBuildError:
        pass


@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "dir", "big"])
def test_every_reader_refuses_what_is_not_a_bounded_regular_file(tmp_path, target):
    if target == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    elif target == "dir":
        path = tmp_path
    elif target == "big":
        path = tmp_path / "sparse.o"
        with open(path, "wb") as fh:
            fh.truncate(1 << 30)
    else:
        path = Path(target)
        if not path.exists():
            pytest.skip("no /dev/zero")
    with pytest.raises(BpfBuildError, match="cannot read"):
        read_input(path)
    for argv in (["show", str(path)], ["verify", str(path)], ["btf", "dump", str(path)],
                 ["skel", str(path), "-o", str(tmp_path / "o.h")], ["run", str(path)], ["dump", str(path)]):
        out = run_cli(argv)
        assert out.kind == "error", (argv, out)
        assert "cannot read" in out.detail


def test_a_spec_repeat_is_capped_at_its_line():
    text = 'program = "hello"\n[[case]]\nname = "a"\nrepeat = 1000000000\n'
    with pytest.raises(SpecError) as info:
        parse_spec(text, "x.test.toml")
    assert str(info.value).startswith("x.test.toml:4:") and str(MAX_REPEAT) in str(info.value)


@pytest.mark.parametrize("line", ["expect.retval = 99999999999999999999", "args = [1, 99999999999999999999]",
                                  "ctx = { len = -99999999999999999999 }"])
def test_numbers_out_of_range_are_refused_at_their_line(line):
    text = f'program = "hello"\n[[case]]\nname = "a"\n{line}\n'
    with pytest.raises(SpecError) as info:
        parse_spec(text, "x.test.toml")
    assert str(info.value).startswith("x.test.toml:4:") and "64 bits" in str(info.value)


def test_a_huge_layout_is_refused():
    text = ('program = "hello"\n[[case]]\nname = "a"\n'
            'expect.ringbuf = { layout = "char b[3000000000]", records = [] }\n')
    with pytest.raises(SpecError):
        parse_spec(text, "x.test.toml")


def test_spec_parsing_is_linear():
    """4,000 cases parse with a number of locator probes linear in the cases (no timing)."""
    from bpfbuild.vm import testspec

    calls = 0
    original = testspec._Locator.find

    def counting(self, path):
        nonlocal calls
        calls += 1
        return original(self, path)

    text = 'program = "hello"\n' + "".join(f'[[case]]\nname = "c{i}"\nexpect.retval = 2\n' for i in range(4000))
    testspec._Locator.find = counting
    try:
        spec = parse_spec(text, "x.test.toml")
    finally:
        testspec._Locator.find = original
    assert len(spec.cases) == 4000
    loc = testspec._Locator(text)
    loc.find(("case", 0))
    assert len(loc._first) == len({e for e, _, _ in loc.entries})    # one dict, built once
    assert calls < 20 * 4000


def test_a_ctx_error_is_blamed_at_the_spec_line(real_objects):
    from bpfbuild.vm.specrun import run_spec

    spec = parse_spec('program = "hello"\n\n[[case]]\nname = "bad ctx"\nctx = { nosuchfield = 3 }\n',
                      "programs/hello.test.toml")
    with pytest.raises(SpecError) as info:
        run_spec(spec, load_object(real_objects["hello"], name="hello"))
    assert str(info.value).startswith("programs/hello.test.toml:3:")
    assert "nosuchfield" in str(info.value)


def test_run_of_a_raw_tracepoint_without_args_gets_every_argument_zeroed(real_objects, tmp_path):
    if "hello-func" not in real_objects:
        pytest.skip("hello-func did not compile")
    path = tmp_path / "hello-func.bpf.o"
    path.write_bytes(real_objects["hello-func"])
    out = run_cli(["run", str(path)])     # reads ctx->args[1] (the syscall number)
    assert out.kind == "ok", out


def test_run_of_a_tracepoint_without_ctx_gets_a_zeroed_record(real_objects, tmp_path):
    path = tmp_path / "exec_events.bpf.o"
    path.write_bytes(real_objects["exec_events"])
    assert run_cli(["run", str(path)]).kind == "ok"


def test_a_repeated_run_has_a_total_instruction_budget(real_objects, monkeypatch):
    from bpfbuild.errors import VMError
    from bpfbuild.vm import api

    obj = api.load(load_object(real_objects["hello"], name="hello"))
    assert obj.run("hello", packet="00" * 64, repeat=3).steps > 0
    monkeypatch.setattr(api, "MAX_REPEAT_STEPS", 20)
    with pytest.raises(VMError, match="repeat = 1000"):
        obj.run("hello", packet="00" * 64, repeat=1000)


@pytest.mark.parametrize("section", [".BTF", "xdp"])
def test_a_compressed_section_is_one_line_never_inflated(real_objects, section):
    # fuzz input 38900 (seed 15): a flipped SHF_COMPRESSED flag gave a zlib.error traceback; a section
    # that claims to inflate to 1 TiB must not be inflated at all
    data = bytearray(real_objects["hello"])
    at = _section_named(bytes(data), section)
    flags, = struct.unpack_from("<Q", data, at + 8)
    struct.pack_into("<Q", data, at + 8, flags | 0x800)
    offset, = struct.unpack_from("<Q", data, at + 24)
    struct.pack_into("<IIQQ", data, offset, 1, 0, 1 << 40, 1)   # Elf64_Chdr: ELFCOMPRESS_ZLIB, 1 TiB
    with pytest.raises(ObjectError, match="SHF_COMPRESSED") as info:
        load_object(bytes(data))
    assert "\n" not in str(info.value)


def test_a_reached_instruction_with_register_r15_is_one_fault_not_an_index_error(real_objects, tmp_path):
    # fuzz input 63939 (seed 15): `bf ff ff ff ff 00 00 00` (mov r15, r15) in an object's program,
    # reached, gave an IndexError in the emulator's translator
    data = bytearray(real_objects["hello"])
    at = _section_named(bytes(data), "xdp")
    offset, = struct.unpack_from("<Q", data, at + 24)
    data[offset + 5 * 8:offset + 6 * 8] = bytes.fromhex("bfffffffff000000")   # insn 5: r2 = 15
    path = tmp_path / "hello.bpf.o"
    path.write_bytes(bytes(data))
    out = run_cli(["run", str(path)])
    assert out.kind == "error" and "insn 5" in out.detail and "invalid instruction" in out.detail, out
    assert "Traceback" not in out.detail and "\n" not in out.detail.strip(), out


def test_a_reached_unknown_atomic_operation_is_one_fault_not_a_value_error(real_objects, tmp_path):
    # fuzz input 75073 (seed 16): an atomic with imm=2 (no such operation), reached, gave a ValueError
    data = bytearray(real_objects["hello"])
    at = _section_named(bytes(data), "xdp")
    offset, = struct.unpack_from("<Q", data, at + 24)
    data[offset + 9 * 8:offset + 10 * 8] = bytes.fromhex("c316000002000000")   # insn 9: atomic u32, imm=2
    path = tmp_path / "hello.bpf.o"
    path.write_bytes(bytes(data))
    out = run_cli(["run", str(path)])
    assert out.kind == "error" and "insn 9" in out.detail and "invalid instruction" in out.detail, out
    assert "Traceback" not in out.detail and "\n" not in out.detail.strip(), out
