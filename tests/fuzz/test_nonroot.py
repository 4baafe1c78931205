"""As a real unprivileged user (not root with capabilities dropped): the commands that need no
kernel work, and every kernel command fails with one line naming the missing privilege.

Root only: the test creates a user with ``useradd`` and removes it at the end.  The interpreter
may live under a directory the user cannot enter (``/root/.pyenv``): then the commands run in a
private mount namespace where that directory is bind-mounted under a world-readable tmpfs
(nothing outside the namespace changes)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .harness import REPO

pytestmark = pytest.mark.kernel

#: Runs bpfbuild's CLI in-process for each argv (one interpreter: fast), prints JSON results.
_CHILD = """
import contextlib, io, json, sys
from bpfbuild.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException as exc:
            import traceback
            code, err = -1, io.StringIO(traceback.format_exc())
    out.append([argv, code, err.getvalue()])
try:
    from bpfbuild.kernel.hooks import test_run
    test_run(sys.argv[2])
    out.append([["test_run"], 0, ""])
except Exception as exc:
    out.append([["test_run"], 1, f"{type(exc).__name__}: {exc}"])
print(json.dumps(out))
"""


def _hidden_from_others(path: str) -> str | None:
    """The first directory above ``path`` another user cannot enter, or None."""
    for parent in Path(path).resolve().parents:
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return str(parent)
    return None


@pytest.fixture
def unprivileged_user():
    if os.geteuid() != 0:
        pytest.skip("creating a user needs root")
    missing = [t for t in ("useradd", "userdel", "setpriv", "unshare") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    name = f"bpfbt{os.getpid() % 100000}"
    res = subprocess.run(["useradd", "-M", "-N", "-s", "/bin/false", name], capture_output=True, text=True,
                         check=False)
    if res.returncode != 0:
        pytest.skip(f"useradd cannot create a user here: {res.stderr.strip()}")
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], capture_output=True, check=False)


def _as_user(user: str, workdir: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = ["env", f"HOME={workdir}", f"PYTHONPATH={REPO}", "PYTHONDONTWRITEBYTECODE=1", "PATH=/usr/bin:/bin"]
    import pwd

    entry = pwd.getpwnam(user)
    drop = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", "--reset-env", "--",
            *env, *argv]
    hidden = _hidden_from_others(sys.executable)
    if hidden is None:
        cmd = drop
    else:   # /root is 0700: show the interpreter's tree under a world-readable tmpfs, in this namespace only
        script = ('set -e; keep="$0/.tree"; mkdir "$keep"; mount --bind "$1" "$keep"; mount -t tmpfs -o mode=755 tmpfs "$2"; '
                  'mkdir -p "$1"; mount --bind "$keep" "$1"; shift 2; cd "$0"; exec "$@"')
        tree = str(Path(sys.executable).resolve().parents[1])
        cmd = ["unshare", "-m", "sh", "-c", script, workdir, tree, hidden, *drop]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=workdir, check=False)


def test_an_unprivileged_user_gets_one_line_from_every_kernel_command(unprivileged_user, real_objects):
    hidden = _hidden_from_others(str(REPO / "bpfbuild" / "__init__.py"))
    if hidden is not None:
        pytest.skip(f"the checkout is under {hidden}, which other users cannot enter")
    work = tempfile.mkdtemp(prefix="bpfbuild-nonroot-")
    try:
        os.chmod(work, 0o755)
        obj = Path(work) / "hello.bpf.o"
        obj.write_bytes(real_objects["hello"])
        pin = "/sys/fs/bpf/bpfbuild_nonroot_test"
        commands = [["show", str(obj)], ["verify", str(obj)], ["run", str(obj)],
                    ["load", str(obj), pin], ["unload", pin], ["probe"], ["prog", "list"], ["map", "list"]]
        res = _as_user(unprivileged_user, work, [sys.executable, "-c", _CHILD, json.dumps(commands), str(obj)])
        assert res.returncode == 0 and res.stdout.strip(), res.stderr[-2000:]
        results = {" ".join(argv[:1]): (code, err) for argv, code, err in json.loads(res.stdout)}
        for name in ("show", "verify", "run"):
            assert results[name] == (0, ""), (name, results[name])
        for name in ("load", "unload", "probe", "prog", "map", "test_run"):
            code, err = results[name]
            assert code not in (0, -1), (name, code, err)
            assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (name, err)
            assert "CAP_BPF" in err, (name, err)
        assert not os.path.exists(pin)
    finally:
        shutil.rmtree(work, ignore_errors=True)
