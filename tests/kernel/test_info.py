"""Program/map info against bpftool's view of the same loaded objects."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bpfbuild.errors import KernelError
from bpfbuild.kernel import (
    KernelObject,
    ObjKind,
    btf_info,
    find_maps,
    find_progs,
    ids,
    map_info,
    open_by_id,
    pinned_ids,
    prog_images,
    prog_info,
)
from bpfbuild.kernel.kallsyms import KernelSymbols

pytestmark = pytest.mark.kernel


def bpftool_json(bpftool: str, *args: str) -> object:
    out = subprocess.run([bpftool, "--json", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.fixture
def hello(objects: dict[str, Path], pin_dir: Path) -> Iterator[tuple[KernelObject, Path]]:
    with KernelObject.open(objects["hello"]) as obj:
        obj.load()
        pin = obj.program().pin(pin_dir / "hello")
        yield obj, pin


def test_prog_info_is_what_bpftool_shows(hello: tuple[KernelObject, Path], bpftool: str) -> None:
    obj, pin = hello
    info = obj.program().info()
    ref = bpftool_json(bpftool, "prog", "show", "pinned", str(pin))
    assert isinstance(ref, dict)
    assert (info.id, info.type_name, info.name, info.tag) == (ref["id"], ref["type"], ref["name"], ref["tag"])
    assert info.gpl_compatible == ref["gpl_compatible"]
    assert (info.bytes_xlated, info.bytes_jited, info.jited) == (ref["bytes_xlated"], ref["bytes_jited"], ref["jited"])
    assert list(info.map_ids) == ref["map_ids"]
    assert info.btf_id == ref["btf_id"]
    assert info.uid == ref["uid"]
    assert info.bytes_memlock == ref["bytes_memlock"]
    assert abs(info.loaded_at - ref["loaded_at"]) <= 1


def test_map_info_is_what_bpftool_shows(hello: tuple[KernelObject, Path], bpftool: str) -> None:
    obj, _ = hello
    for m in obj.maps.values():
        info = m.info()
        ref = bpftool_json(bpftool, "map", "show", "id", str(info.id))
        assert isinstance(ref, dict)
        assert (info.name, info.type_name, info.flags) == (ref["name"], ref["type"], ref["flags"])
        assert (info.key_size, info.value_size, info.max_entries) == (ref["bytes_key"], ref["bytes_value"],
                                                                      ref["max_entries"])
        assert info.frozen == bool(ref["frozen"])
        assert info.btf_id == ref["btf_id"]
        assert info.bytes_memlock == ref["bytes_memlock"]


def test_images_match_the_reported_sizes(hello: tuple[KernelObject, Path]) -> None:
    obj, _ = hello
    prog = obj.program()
    info, images = prog.info(), prog.images()
    assert len(images.xlated) == info.bytes_xlated
    assert len(images.jited) == info.bytes_jited
    assert images.prog_tags == (info.tag,)
    assert [f.insn for f in images.func_info] == [0]
    slots = info.bytes_xlated // 8
    assert images.line_info and all(0 <= li.insn < slots and li.line > 0 for li in images.line_info)
    assert [li.insn for li in images.line_info] == sorted(li.insn for li in images.line_info)
    assert len(images.jited_ksyms) == len(images.jited_func_lens) == 1
    assert images.jited_func_lens[0] == info.bytes_jited


def test_btf_of_the_program(hello: tuple[KernelObject, Path]) -> None:
    obj, _ = hello
    fd = open_by_id(ObjKind.BTF, obj.program().info().btf_id)
    assert fd is not None
    with fd:
        btf = btf_info(fd)
    assert btf.data[:2] == b"\x9f\xeb"
    assert not btf.kernel_btf


def test_every_selector_finds_the_program(hello: tuple[KernelObject, Path]) -> None:
    obj, pin = hello
    info = obj.program().info()
    assert info.id in set(ids(ObjKind.PROG))
    for how, value in (("id", str(info.id)), ("name", "hello"), ("tag", info.tag), ("pinned", str(pin))):
        fds = find_progs(how, value)
        try:
            assert info.id in {prog_info(fd).id for fd in fds}, how
        finally:
            for fd in fds:
                fd.close()
    assert str(pin) in pinned_ids(ObjKind.PROG)[info.id]


def test_selectors_report_what_is_missing(hello: tuple[KernelObject, Path]) -> None:
    obj, pin = hello
    bss = obj.map(".bss")
    with pytest.raises(KernelError, match="no prog with name"):
        find_progs("name", "no_such_prog_x")
    with pytest.raises(KernelError, match="invalid prog id"):
        find_progs("id", "twelve")
    with pytest.raises(KernelError, match="maps have no tag"):
        find_maps("tag", "00")
    map_pin = bss.pin(pin.parent / "bss")
    with pytest.raises(KernelError, match="not a prog"):
        find_progs("pinned", str(map_pin))
    fds = find_maps("pinned", str(map_pin))
    with fds[0]:
        assert map_info(fds[0]).id == bss.info().id


def test_images_of_a_program_with_a_subprogram(objects: dict[str, Path]) -> None:
    with KernelObject.open(objects["hello-func"]) as obj:
        obj.load()
        images = prog_images(obj.program().fd)
        info = prog_info(obj.program().fd)
        symbols = KernelSymbols.load()
        names = [symbols.name_at(addr) for addr in images.jited_ksyms]
    assert len(images.func_info) == 2 == len(images.jited_ksyms) == len(images.prog_tags)
    assert sum(images.jited_func_lens) == info.bytes_jited
    if names[0] is None:
        pytest.skip("kernel symbol addresses are hidden (kptr_restrict)")
    # the JIT images are named bpf_prog_<tag>_<func>: the main one by the program's tag, the
    # subprogram by its own tag from prog_tags
    assert names == [f"bpf_prog_{info.tag}_hello", f"bpf_prog_{images.prog_tags[1]}_get_opcode"]
