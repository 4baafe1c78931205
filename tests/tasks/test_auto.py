"""`doit auto`: the file-watching rebuild works with bpfbuild's tasks (doit-auto1 plugin)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("doit_auto1") is None and
                                importlib.util.find_spec("doit_auto") is None,
                                reason="doit auto needs the doit-auto1 plugin (pip install 'bpfbuild[watch]')")


def _wait_for(proc: subprocess.Popen[str], needle: str, seen: list[str], timeout: float) -> bool:
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sel.select(timeout=0.5):
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                return False
            seen.append(line)
            if needle in line:
                return True
    return False


def test_auto_rebuilds_what_an_edit_touches(project):
    project.doit("build")
    # its own session: doit auto runs the tasks in a child process, which must go with it
    proc = subprocess.Popen([sys.executable, "-m", "doit", "auto", "build"], cwd=project.root,
                            env={**project.env, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    try:
        src = project.root / "programs" / "hello.bpf.c"
        wanted = "programs/hello.bpf.c: compiling (changed: programs/hello.bpf.c)"
        # an edit made before the watcher is up goes unseen: save again until one is noticed
        for attempt in range(6):
            src.write_text(src.read_text() + f"\n/* saved in the editor ({attempt}) */\n")
            if _wait_for(proc, wanted, seen, 10):
                break
        else:
            pytest.fail("doit auto never rebuilt after an edit:\n" + "".join(seen))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
