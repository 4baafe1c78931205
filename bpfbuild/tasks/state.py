"""The files doit keeps between runs: the project lock and the dependency DB's health check.

* :func:`project_lock` takes ``fcntl.flock`` on ``build/.lock`` for the life of the process; a
  second ``doit`` in the same project says so in one line and waits for the first.
* :func:`check_state_file` opens doit's sqlite3 DB and decodes every row; a file that is not a
  database, or holds rows that are not JSON, is reported in one line and removed, so the run
  starts afresh (every task checks its inputs again) instead of failing with a traceback.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from pathlib import Path

__all__ = ["check_state_file", "mark_state_file", "project_lock"]

#: Lock files this process holds (a second flock on a new descriptor would wait on ourselves).
_HELD: dict[str, int] = {}


def project_lock(build_dir: Path) -> None:
    """Hold an exclusive lock on ``build_dir/.lock`` until the process exits."""
    path = os.path.abspath(build_dir / ".lock")
    if path in _HELD:
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        sys.stderr.write(f"{build_dir / '.lock'}: warning: cannot create the project lock: "
                         f"{exc.strerror or exc}\n")
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.stderr.write(f"{build_dir / '.lock'}: another doit is running in this project; waiting for it\n")
        sys.stderr.flush()
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)   # a filesystem without flock: run unlocked, as before
        return
    _HELD[path] = fd


def _problem(path: Path) -> str | None:
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        if "doit" not in tables:
            return None if not tables else "no doit table"
        for task_id, data in conn.execute("select task_id, task_data from doit"):
            if not isinstance(task_id, str):
                return "a task id is not text"
            value = json.loads(data.decode() if isinstance(data, bytes) else data)
            if not isinstance(value, dict):
                return f"task {task_id!r}: not a JSON object"
    except sqlite3.Error as exc:
        return str(exc)
    except (ValueError, TypeError, AttributeError) as exc:
        return f"undecodable task data ({type(exc).__name__})"
    finally:
        conn.close()
    return None


def _stamp(st: os.stat_result) -> str:
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".ok")


def mark_state_file(path: Path) -> None:
    """After a doit run: note that the DB as doit just left it needs no check on the next run
    (doit wrote it in sqlite transactions; only a change by someone else calls for a check)."""
    try:
        _marker(path).write_text(_stamp(path.stat()))
    except OSError:
        pass


def check_state_file(path: Path) -> None:
    """Remove doit's DB at ``path`` (with one line) when it cannot be read back.

    The DB exactly as the last doit run left it (same inode, size and mtime as its marker,
    :func:`mark_state_file`) is not read again: a no-op ``doit`` does not decode it twice."""
    try:
        st = path.stat()
    except OSError:
        return
    try:
        if _marker(path).read_text() == _stamp(st):
            return
    except OSError:
        pass
    if not path.is_file():
        problem = "not a regular file"
    elif st.st_size == 0:
        return   # sqlite3 reads an empty file as an empty database
    else:
        problem = _problem(path)
    if problem is None:
        return
    sys.stderr.write(f"{path}: corrupted doit state ({problem}); starting afresh\n")
    for stale in (path, path.with_name(path.name + "-journal")):
        try:
            stale.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            sys.stderr.write(f"{stale}: cannot remove: {exc.strerror or exc}\n")
