"""The layering of ../shared/DESIGN.md holds: a module imports only its own package or lower layers,
and third-party libraries stay where they are confined; the no-op doit path imports neither
pyelftools nor jinja2."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bpfbuild"

LAYER = {"errors": 0, "location": 0, "inputs": 0, "config": 0, "isa": 1, "toolchain": 1, "abi": 2, "btf": 2, "obj": 3,
         "verifier": 4, "vm": 4, "skel": 4, "kernel": 4, "tasks": 5, "cli": 5}
MAY_IMPORT = {"isa": set(), "toolchain": set(), "abi": {"isa", "btf"}, "btf": set(), "obj": {"isa", "abi", "btf"}}
CONFINED = {"elftools": ("obj/elf.py",), "jinja2": ("skel/render.py",), "doit": ("tasks/",),
            "ctypes": ("kernel/",)}


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def test_modules_import_only_lower_layers():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        pkg = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        if pkg not in LAYER:
            continue
        for mod in _imports(path):
            parts = mod.split(".")
            if parts[0] == "bpfbuild" and len(parts) > 1 and parts[1] in LAYER and parts[1] != pkg:
                other = parts[1]
                if LAYER[other] == 0:
                    continue
                peer = LAYER[other] == LAYER[pkg] == 4
                if LAYER[other] > LAYER[pkg] or peer or (pkg in MAY_IMPORT and other not in MAY_IMPORT[pkg]):
                    wrong.append(f"{rel} imports {mod}")
            for lib, homes in CONFINED.items():
                if parts[0] == lib and not any(str(rel).startswith(h) for h in homes):
                    wrong.append(f"{rel} imports {lib} (confined to {', '.join(homes)})")
    assert wrong == []


def test_task_generation_imports_no_heavy_library(tmp_path):
    code = ("import sys\nimport bpfbuild.tasks as t\n"
            "heavy = [m for m in ('elftools', 'jinja2', 'bpfbuild.obj.loader', 'bpfbuild.vm') if m in sys.modules]\n"
            "print(','.join(heavy))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""
