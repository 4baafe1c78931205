"""``doit verify``'s action on one object: diagnostics relative to the project root, the
summary record, failure unless warn mode."""

from __future__ import annotations

import json
import shutil

from bpfbuild.config import ProgramConfig, ProgramSource
from bpfbuild.tasks.verify import task_verify, verify_object


def _prog(tmp_path, obj, name):
    (tmp_path / "programs").mkdir(exist_ok=True)
    (tmp_path / "build").mkdir(exist_ok=True)
    src = tmp_path / "programs" / f"{name}.bpf.c"
    src.write_text("/* the object was compiled elsewhere */\n")
    shutil.copy(obj, tmp_path / "build" / f"{name}.bpf.o")
    return ProgramSource(name, src, tmp_path / "build" / f"{name}.bpf.o", tmp_path / "build" / f"{name}.d",
                         ProgramConfig())


def test_rejection_fails_with_the_source_line(build_corpus, corpus_lib, tmp_path, capsys):
    obj = build_corpus(corpus_lib.CORPUS / "map_lookup_no_null_check.bpf.c")
    prog = _prog(tmp_path, obj, "map_lookup_no_null_check")
    failed = verify_object(prog, str(tmp_path), "error")
    assert failed is not None
    out = capsys.readouterr().out
    assert "programs/map_lookup_no_null_check.bpf.c:18:9: error: R0 invalid mem access" in out
    record = json.loads((tmp_path / "build" / ".results" / "map_lookup_no_null_check.verify.json").read_text())
    assert record["verdict"] == "rejected"
    assert record["programs"][0]["errors"][0]["file"] == "programs/map_lookup_no_null_check.bpf.c"


def test_warn_mode_does_not_fail(build_corpus, corpus_lib, tmp_path, capsys):
    obj = build_corpus(corpus_lib.CORPUS / "map_lookup_no_null_check.bpf.c")
    prog = _prog(tmp_path, obj, "map_lookup_no_null_check")
    assert verify_object(prog, str(tmp_path), "warn") is None
    assert ": warning: R0 invalid mem access" in capsys.readouterr().out


def test_accepted_object(build_corpus, corpus_lib, tmp_path):
    obj = build_corpus(corpus_lib.CORPUS / "map_lookup_null_checked.bpf.c")
    prog = _prog(tmp_path, obj, "map_lookup_null_checked")
    assert verify_object(prog, str(tmp_path), "error") is None
    record = json.loads((tmp_path / "build" / ".results" / "map_lookup_null_checked.verify.json").read_text())
    assert record["programs"][0]["verdict"] == "accepted"


def test_one_subtask_per_program_depending_on_the_object(tmp_path, monkeypatch):
    (tmp_path / "programs").mkdir()
    (tmp_path / "programs" / "a.bpf.c").write_text("")
    (tmp_path / "pyproject.toml").write_text("[tool.bpfbuild]\n")
    monkeypatch.chdir(tmp_path)
    tasks = list(task_verify())
    assert [t["name"] for t in tasks] == ["a"]
    assert tasks[0]["file_dep"][0].endswith("build/a.bpf.o")
    # the verifier's code (and the isa/abi/btf/obj code its verdicts rest on) counts through one
    # identity of its sources (names, sizes, mtimes)
    from bpfbuild.tasks.project import code_identity
    from bpfbuild.tasks.verify import VERIFIER_CODE
    assert {d.name for d in VERIFIER_CODE} >= {"verifier", "abi", "isa", "obj"}
    assert "api.py:" in code_identity(str(next(d for d in VERIFIER_CODE if d.name == "verifier")))
