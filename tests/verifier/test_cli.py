"""``bpfbuild verify`` in process: exit status, text diagnostics, the JSON contract, --log."""

from __future__ import annotations

import json
import shutil

import pytest

from bpfbuild.cli import main


@pytest.fixture
def objects(build_corpus, corpus_lib, tmp_path):
    """Two corpus objects copied into the working directory of the test."""
    out = {}
    for name in ("map_lookup_null_checked", "map_lookup_no_null_check"):
        obj = build_corpus(corpus_lib.CORPUS / f"{name}.bpf.c")
        out[name] = tmp_path / obj.name
        shutil.copy(obj, out[name])
    return out


def test_accepted_exits_0(objects, capsys):
    assert main(["verify", str(objects["map_lookup_null_checked"])]) == 0
    assert "accepted" in capsys.readouterr().out


def test_rejected_exits_1_with_the_error_first(objects, capsys):
    assert main(["verify", str(objects["map_lookup_no_null_check"])]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(": error: R0 invalid mem access 'map_value_or_null'")
    assert ":18:9:" in out[0]
    assert any(line.startswith("  hint: ") for line in out)
    assert "rejected" in out[-1]


def test_json_contract(objects, capsys):
    assert main(["verify", str(objects["map_lookup_no_null_check"]), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    (prog,) = doc["programs"]
    assert prog["verdict"] == "rejected" and prog["section"] == "xdp"
    (err,) = prog["errors"]
    assert (err["insn"], err["line"], err["column"]) == (7, 18, 9)
    assert err["file"].endswith("map_lookup_no_null_check.bpf.c")


def test_unusable_input_exits_2(tmp_path, objects, capsys):
    junk = tmp_path / "junk.o"
    junk.write_bytes(b"\x7fELF but not really")
    assert main(["verify", str(junk)]) == 2
    assert main(["verify", str(objects["map_lookup_null_checked"]), "nosuchprog"]) == 2
    err = capsys.readouterr().err
    assert "nosuchprog" in err


def test_log_levels(objects, capsys):
    assert main(["verify", str(objects["map_lookup_no_null_check"]), "--log"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("0: R1=ctx() R10=fp0\n") and "processed 7 insns (limit 1000000)" in out
    assert main(["verify", str(objects["map_lookup_null_checked"]), "--log", "2"]) == 0
    assert "Live regs before insn:" in capsys.readouterr().out


def test_unprivileged(objects, capsys):
    # an XDP program needs CAP_BPF: an unprivileged loader cannot load it at all
    assert main(["verify", str(objects["map_lookup_null_checked"]), "--unprivileged"]) == 1
    assert "needs CAP_BPF" in capsys.readouterr().out
