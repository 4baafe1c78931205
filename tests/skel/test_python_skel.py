"""Python skeletons: valid modules, and values that survive the round trip through bytes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.errors import SkelError
from bpfbuild.skel.generate import python_module, skeleton_from_file


def load_module(path: Path, text: str) -> ModuleType:
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kitchen_module(kitchen: Path, tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return load_module(tmp_path_factory.mktemp("pyskel") / "kitchen_skel.py", python_module(skeleton_from_file(kitchen)))


def test_module_shape(kitchen_module: ModuleType, kitchen: Path) -> None:
    m = kitchen_module
    assert m.NAME == "kitchen_bpf"
    assert m.elf_bytes() == kitchen.read_bytes()
    cls = m.KitchenBpf
    assert cls.elf_bytes() == kitchen.read_bytes()
    assert m._Maps.__slots__[:2] == ["pairs", "bss"]
    assert m._Programs.__slots__ == ["kitchen", "strlit", "tp_prog"]
    assert m._Section_rodata._skel_vars == ("port", "name", "strs")
    assert m._Section_bss.fptr.offset == 72


def test_every_program_module_is_importable(program_objects: dict[str, Path], tmp_path: Path) -> None:
    for name, obj in program_objects.items():
        module = load_module(tmp_path / f"{name.replace('-', '_')}_skel_t.py", python_module(skeleton_from_file(obj)))
        assert module.elf_bytes() == obj.read_bytes()


def ints(size: int, signed: bool) -> st.SearchStrategy[int]:
    bits = 8 * size
    return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else st.integers(0, (1 << bits) - 1)


@st.composite
def layouts(draw: st.DrawFn, depth: int = 0) -> tuple[Any, ...]:
    kind = draw(st.sampled_from(["int", "bool", "float", "str", "bytes"] + (["array", "struct"] if depth < 3 else [])))
    match kind:
        case "int":
            return ("int", draw(st.sampled_from([1, 2, 4, 8])), draw(st.booleans()))
        case "bool":
            return ("bool", 1)
        case "float":
            return ("float", draw(st.sampled_from([4, 8])))
        case "str" | "bytes":
            return (kind, draw(st.integers(1, 16)))
        case "array":
            count, elem = draw(st.integers(1, 4)), draw(layouts(depth + 1))
            return ("array", elem[1] * count, count, elem)
    fields = []
    offset = 0
    for i in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):     # a bitfield in a byte of its own
            fields.append((f"f{i}", offset * 8, draw(st.integers(1, 7)), ("int", 1, draw(st.booleans()))))
            offset += 1
        else:
            sub = draw(layouts(depth + 1))
            fields.append((f"f{i}", offset * 8, 0, sub))
            offset += sub[1]
    return ("struct", offset, tuple(fields))


def values(layout: tuple[Any, ...], bits: int = 0) -> st.SearchStrategy[Any]:
    kind, size = layout[0], layout[1]
    if kind == "int":
        width = bits or 8 * size
        signed = layout[2]
        return st.integers(-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else st.integers(0, (1 << width) - 1)
    if kind == "bool":
        return st.booleans()
    if kind == "float":
        return st.floats(allow_nan=False, width=32 if size == 4 else 64)
    if kind == "str":
        return st.text("abcxyz019 _-", max_size=size)
    if kind == "bytes":
        return st.binary(min_size=size, max_size=size)
    if kind == "array":
        return st.lists(values(layout[3]), min_size=layout[2], max_size=layout[2])
    return st.fixed_dictionaries({name: values(sub, width) for name, _, width, sub in layout[2]})


@st.composite
def layout_and_value(draw: st.DrawFn) -> tuple[tuple[Any, ...], Any]:
    layout = draw(layouts())
    return layout, draw(values(layout))


@settings(max_examples=300, deadline=None)
@given(layout_and_value())
def test_values_round_trip(kitchen_module: ModuleType, lv: tuple[tuple[Any, ...], Any]) -> None:
    layout, value = lv
    raw = kitchen_module._encode(layout, value, bytes(layout[1]), "v")
    assert len(raw) == layout[1]
    back = kitchen_module._decode(layout, raw)
    assert back == value


def test_bad_values_are_skel_errors(kitchen_module: ModuleType) -> None:
    enc = kitchen_module._encode
    for layout, value in [(("int", 1, False), 256), (("int", 1, True), -129), (("int", 4, True), "x"),
                          (("str", 4), "hello"), (("bytes", 2), 3), (("array", 8, 2, ("int", 4, True)), [1, 2, 3]),
                          (("struct", 4, (("a", 0, 0, ("int", 4, True)),)), {"b": 1}),
                          (("struct", 1, (("a", 0, 3, ("int", 1, False)),)), {"a": 8})]:
        with pytest.raises(SkelError):
            enc(layout, value, bytes(layout[1]), "v")


def test_partial_struct_and_list_updates_keep_the_rest(kitchen_module: ModuleType) -> None:
    layout = ("struct", 8, (("a", 0, 0, ("int", 4, True)), ("b", 32, 3, ("int", 4, False)),
                            ("c", 35, 5, ("int", 4, True))))
    old = kitchen_module._encode(layout, {"a": 7, "b": 5, "c": -3}, bytes(8), "v")
    new = kitchen_module._encode(layout, {"b": 2}, old, "v")
    assert kitchen_module._decode(layout, new) == {"a": 7, "b": 2, "c": -3}
    arr = ("array", 12, 3, ("int", 4, True))
    old = kitchen_module._encode(arr, [1, 2, 3], bytes(12), "v")
    assert kitchen_module._decode(arr, kitchen_module._encode(arr, [9], old, "v")) == [9, 2, 3]


@pytest.mark.parametrize(("name", "cls"), [("kernel_object", "KernelObject"), ("NAME", "SkelNAME"),
                                           ("any", "SkelAny")])
def test_class_names_never_shadow_the_module_names(program_objects: dict[str, Path], tmp_path: Path,
                                                   name: str, cls: str) -> None:
    obj = program_objects["hello"]
    module = load_module(tmp_path / f"m_{name}.py", python_module(skeleton_from_file(obj, name=name)))
    skel_cls = getattr(module, cls)
    assert issubclass(skel_cls, module._Skeleton) and module.NAME == name
    assert skel_cls.elf_bytes() == obj.read_bytes()
