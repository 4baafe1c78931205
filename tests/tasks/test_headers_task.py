"""The ``headers`` action fails with one line for a header it cannot use (no traceback)."""

from __future__ import annotations

from pathlib import Path

from doit.exceptions import TaskFailed

from bpfbuild.tasks.headers import write_helper_defs


def test_a_missing_header_fails_the_task_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "bpf_helper_defs.h"
    result = write_helper_defs(str(tmp_path / "nope.h"), out)
    assert isinstance(result, TaskFailed)
    assert str(tmp_path / "nope.h") + ": cannot read: " in result.message and "\n" not in result.message
    assert not out.exists()


def test_a_header_without_helpers_fails_the_task_with_one_line(tmp_path: Path) -> None:
    header = tmp_path / "bpf.h"
    header.write_text("/* not linux/bpf.h */\n")
    out = tmp_path / "bpf_helper_defs.h"
    result = write_helper_defs(str(header), out)
    assert isinstance(result, TaskFailed)
    assert result.message.startswith(f"{header}: no helper") and "\n" not in result.message
    assert not out.exists()
