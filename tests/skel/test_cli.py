"""`bpfbuild skel` and `bpfbuild btf dump` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpfbuild.cli import main
from bpfbuild.skel.btfdump import load_btf, raw_dump
from bpfbuild.skel.generate import c_header, python_module, skeleton_from_file


def test_skel_writes_the_header_to_stdout(program_objects: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    obj = program_objects["hello"]
    assert main(["skel", str(obj)]) == 0
    assert capsys.readouterr().out == c_header(skeleton_from_file(obj))


def test_skel_options(program_objects: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    obj = program_objects["tc_port_filter"]
    out = tmp_path / "deep" / "f.skel.h"
    assert main(["skel", str(obj), "--name", "filter", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert out.read_text() == c_header(skeleton_from_file(obj, name="filter"))
    assert main(["skel", str(obj), "--lang", "python"]) == 0
    assert capsys.readouterr().out == python_module(skeleton_from_file(obj))


@pytest.mark.parametrize("argv", [["--name", "bad name"], ["--name", "struct"]])
def test_skel_errors_are_one_line_exit_2(program_objects: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                         argv: list[str]) -> None:
    obj = program_objects["hello"]
    assert main(["skel", str(obj), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{obj}: ") and "not a valid C identifier" in err


def test_skel_of_something_that_is_not_an_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "x.bpf.o"
    bogus.write_text("not elf")
    assert main(["skel", str(bogus)]) == 2
    assert capsys.readouterr().err.startswith(f"{bogus}: ")
    assert main(["skel", str(tmp_path / "missing.o")]) == 2


def test_btf_dump(kitchen: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["btf", "dump", str(kitchen)]) == 0
    assert capsys.readouterr().out == raw_dump(load_btf(kitchen))
    out = tmp_path / "k.h"
    assert main(["btf", "dump", str(kitchen), "--format", "c", "-o", str(out)]) == 0
    assert "struct pair {" in out.read_text()
    assert main(["btf"]) == 2
    assert main(["btf", "dump", str(tmp_path / "nope")]) == 2
    assert "cannot read" in capsys.readouterr().err
