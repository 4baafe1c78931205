"""KernelObject: open from path or bytes, globals before load, logs, rejections, closing."""

from __future__ import annotations

import errno

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.errors import KernelError
from bpfbuild.kernel import KernelObject

pytestmark = pytest.mark.kernel


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_open_from_path_and_bytes_see_the_same_object(objects: dict[str, Path]) -> None:
    path = objects["hello"]
    with KernelObject.open(path) as a, KernelObject.open(path.read_bytes(), name="hello") as b:
        assert a.name == b.name == "hello"
        assert list(a.programs) == list(b.programs) == ["hello"]
        assert list(a.maps) == list(b.maps) == ["hello.bss", "hello.rodata"]
        assert a.program().section == "xdp"
        assert a.program().type_name == "xdp"
        assert a.map(".rodata") is a.maps["hello.rodata"]
        assert a.map(".rodata").initial_value == b"Hello World %d\0"


def test_bytes_default_name_prefixes_global_maps(objects: dict[str, Path]) -> None:
    with KernelObject.open(objects["hello"].read_bytes()) as obj:
        assert set(obj.maps) == {"obj.bss", "obj.rodata"}


def test_unknown_program_and_map_list_what_exists(objects: dict[str, Path]) -> None:
    with KernelObject.open(objects["hello"]) as obj:
        with pytest.raises(KernelError, match=r"no program 'nope' \(programs: hello\)"):
            obj.program("nope")
        with pytest.raises(KernelError, match=r"maps: hello\.bss, hello\.rodata"):
            obj.map("nope")


def test_not_an_object_is_one_clean_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.o"
    junk.write_bytes(b"not an ELF file at all")
    with pytest.raises(KernelError) as err:
        KernelObject.open(junk)
    assert str(err.value) == f"{junk}: cannot open the object: not an ELF file"   # our reader, before libbpf's
    with pytest.raises(KernelError, match="No such file"):
        KernelObject.open(tmp_path / "absent.o")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_objects_only_raise_kernel_errors(objects: dict[str, Path], data: st.DataObject) -> None:
    raw = bytearray(objects["hello"].read_bytes())
    cut = data.draw(st.integers(0, len(raw)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)), max_size=8))
    for pos, value in flips:
        raw[pos] = value
    try:
        with KernelObject.open(bytes(raw[:cut] if cut else raw), name="fuzz") as obj:
            assert isinstance(obj.programs, dict)
    except KernelError:
        pass


def test_log_kept_on_success_only_when_asked(objects: dict[str, Path]) -> None:
    with KernelObject.open(objects["hello"]) as obj:
        obj.load(log_level=1)
        assert "processed" in obj.program().log
        assert obj.program().loaded
    with KernelObject.open(objects["hello"]) as obj:
        obj.load()
        assert obj.program().log == ""


def test_rejection_names_program_and_kernel_message(objects: dict[str, Path]) -> None:
    with KernelObject.open(objects["bad"]) as obj:
        with pytest.raises(KernelError) as err:
            obj.load()
        assert obj.last_failed is obj.program("bad")
        log = obj.program("bad").log
    message = str(err.value)
    assert "prog 'bad': rejected by the kernel verifier at insn" in message
    assert message.endswith(f"{log.strip().splitlines()[-2]} [{errno.errorcode[err.value.errno]}]")  # line, errno
    assert "map_value_or_null" in message


def test_globals_are_set_before_load_and_seen_by_the_program(objects: dict[str, Path]) -> None:
    with KernelObject.open(objects["maps"]) as obj:
        assert obj.datasec_vars(".rodata") == {"verdict": (0, 4)}
        obj.set_globals(".rodata", {"verdict": 1})
        obj.load()
        assert obj.program().test_run(bytes(64)).retval == 1
        assert obj.map(".rodata").handle().lookup(0) == (1).to_bytes(4, "little")
        with pytest.raises(KernelError, match="before load"):
            obj.set_globals(".rodata", {"verdict": 2})


def test_globals_are_checked(objects: dict[str, Path]) -> None:
    with KernelObject.open(objects["maps"]) as obj:
        with pytest.raises(KernelError, match=r"no variable 'nope' \(variables: verdict\)"):
            obj.set_globals(".rodata", {"nope": 1})
        with pytest.raises(KernelError, match="does not fit in 4 bytes"):
            obj.set_globals(".rodata", {"verdict": 1 << 32})
        with pytest.raises(KernelError, match="5 bytes do not fit in 4"):
            obj.set_globals(".rodata", {"verdict": "abcd"})
        obj.set_globals(".rodata", {"verdict": -1})
        assert obj.map(".rodata").initial_value == b"\xff\xff\xff\xff"


def test_only_the_chosen_programs_load(objects: dict[str, Path]) -> None:
    with KernelObject.open(objects["hello"]) as obj, pytest.raises(KernelError, match="no program 'other'"):
        obj.load(programs=["other"])


def test_close_releases_every_fd_and_invalidates_handles(objects: dict[str, Path]) -> None:
    before = _open_fds()
    with KernelObject.open(objects["maps"]) as obj:
        obj.load(log_level=1)
        prog = obj.program()
        prog.info()
        obj.map("pairs").handle().items()
        assert len(_open_fds()) > len(before)
    assert _open_fds() == before
    with pytest.raises(KernelError, match="closed"):
        _ = prog.fd
