"""`.vscode/tasks.json`: editor build tasks whose problem matchers catch every bpfbuild diagnostic.

Written by ``doit ide`` (tasks/ide.py) and ``bpfbuild init`` (cli/project.py); it uses neither doit
nor the CLI, so both import it from here (layer 1: the standard library only).

Everything bpfbuild and clang print about a program has one shape, ``file:line:col: severity:
message`` (``file:line: severity: message`` when no column is known), with paths relative to the
project root; one matcher list serves every task.  The user's own tasks are kept: only tasks
whose label starts with ``bpfbuild:`` are replaced.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

__all__ = ["LABEL_PREFIX", "PROBLEM_MATCHERS", "merge_tasks", "vscode_tasks", "write_vscode_tasks"]

LABEL_PREFIX = "bpfbuild: "

#: file:line:col: severity: message  (clang, verifier, emulator tests, skeletons, kernel load)
DIAGNOSTIC_RE = r"^(.+?):(\d+):(\d+):\s+(fatal error|error|warning|note):\s+(.*)$"
#: file:line: severity: message  (no column known)
DIAGNOSTIC_NOCOL_RE = r"^(.+?):(\d+):\s+(fatal error|error|warning|note):\s+(.*)$"

PROBLEM_MATCHERS: list[dict[str, Any]] = [
    {
        "owner": "bpfbuild",
        "source": "bpfbuild",
        "fileLocation": ["relative", "${workspaceFolder}"],
        "pattern": {"regexp": DIAGNOSTIC_RE, "file": 1, "line": 2, "column": 3, "severity": 4, "message": 5},
    },
    {
        "owner": "bpfbuild",
        "source": "bpfbuild",
        "fileLocation": ["relative", "${workspaceFolder}"],
        "pattern": {"regexp": DIAGNOSTIC_NOCOL_RE, "file": 1, "line": 2, "severity": 3, "message": 4},
    },
]

_STAGES = [
    ("doit", "build, verify, test and generate skeletons (the default doit)", "", True),
    ("doit verify", "check every program with bpfbuild's verifier", "verify", False),
    ("doit test", "run every program's test spec in the emulator", "test", False),
    ("doit skel", "generate skeleton headers", "skel", False),
    ("doit load", "load and pin every program in the kernel (root)", "load", False),
]


def vscode_tasks() -> list[dict[str, Any]]:
    tasks = []
    for label, detail, stage, default in _STAGES:
        task: dict[str, Any] = {
            "label": LABEL_PREFIX + label,
            "detail": detail,
            "type": "shell",
            "command": "python3 -m doit --continue" + (f" {stage}" if stage else ""),
            "options": {"cwd": "${workspaceFolder}"},
            "problemMatcher": PROBLEM_MATCHERS,
            "presentation": {"reveal": "always", "clear": True},
        }
        if default:
            task["group"] = {"kind": "build", "isDefault": True}
        elif stage == "test":
            task["group"] = {"kind": "test", "isDefault": True}
        tasks.append(task)
    return tasks


def _strip_jsonc(text: str) -> str:
    """VS Code's tasks.json may hold comments and trailing commas; remove them outside strings."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def merge_tasks(existing_text: str | None) -> dict[str, Any]:
    """The user's tasks.json with bpfbuild's tasks added or refreshed (others untouched)."""
    doc: dict[str, Any] = {"version": "2.0.0", "tasks": []}
    if existing_text and existing_text.strip():
        loaded = json.loads(_strip_jsonc(existing_text))
        if not isinstance(loaded, dict):
            raise ValueError("tasks.json is not a JSON object")
        doc = loaded
    mine = vscode_tasks()
    theirs = [t for t in doc.get("tasks", []) if not str(t.get("label", "")).startswith(LABEL_PREFIX)]
    if any(t.get("group", {}) == {"kind": "build", "isDefault": True} for t in theirs if isinstance(t, dict)):
        mine[0].pop("group", None)   # the user already chose a default build task
    doc["version"] = doc.get("version", "2.0.0")
    doc["tasks"] = theirs + mine
    return doc


def write_vscode_tasks(root: Path) -> None:
    path = root / ".vscode" / "tasks.json"
    try:
        existing = path.read_text()
    except FileNotFoundError:
        existing = None
    try:
        doc = merge_tasks(existing)
    except ValueError as exc:   # json.JSONDecodeError is a ValueError
        print(f"{path}: not updated: cannot parse it ({exc})")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)
