"""The layering of ../shared/DESIGN.md holds: a module imports only its own package or lower layers,
tasks/ and cli/ (both layer 5) never import each other, no module is in an import cycle (counting
imports inside functions and under TYPE_CHECKING), third-party libraries stay where they are
confined, and the no-op doit path imports neither pyelftools nor jinja2."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bpfbuild"

LAYER = {"errors": 0, "location": 0, "inputs": 0, "config": 0, "isa": 1, "toolchain": 1, "editor": 1, "abi": 2,
         "btf": 2, "obj": 3,
         "verifier": 4, "vm": 4, "skel": 4, "kernel": 4, "tasks": 5, "cli": 5}
MAY_IMPORT = {"isa": set(), "toolchain": set(), "abi": {"isa", "btf"}, "btf": set(), "obj": {"isa", "abi", "btf"}}
CONFINED = {"elftools": ("obj/elf.py",), "jinja2": ("skel/render.py",), "doit": ("tasks/",),
            "ctypes": ("kernel/", "vm/cbackend.py")}


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
                peer = LAYER[other] == LAYER[pkg] >= 4   # L4 peers; tasks and cli (L5) too
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


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the bpfbuild modules it imports anywhere in its text (module level, inside
    functions, under TYPE_CHECKING); ``from pkg import sub`` counts as importing ``pkg.sub``."""
    files = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in files]
                targets = subs if len(subs) == len(node.names) else [base, *subs]
            for target in targets:
                while target and target not in files:   # `import bpfbuild.x.y` names a module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_is_in_an_import_cycle():
    assert _cycles(_import_graph()) == []


# An opcode (``code``, ``opcode``, ``op``, ``insn.<field>``) masked with ``0x07``, ``0xF0``, ``0xE0``,
# ``0x18`` or ``0x08``: an opcode field picked out by hand.  (Other values masked with the same
# numbers, such as the CFG walk's state bits, are not opcodes.)
_OPCODE_MASK = re.compile(r"\b(?:\w*code|op|insn\.\w+)\s*\)?\s*&\s*0x0?(?:7|8|18|[fF]0|[eE]0)\b")


def _hand_masks() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "isa":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if _OPCODE_MASK.search(line.split("#", 1)[0]):
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_the_mask_finder_finds_masks():
    assert _OPCODE_MASK.search("cls = code & 0x07") and _OPCODE_MASK.search("op = insn.opcode & 0xF0")
    assert _OPCODE_MASK.search("opcode = (opcode & 0xE0) | size") and _OPCODE_MASK.search("if op & 0x08:")
    assert not _OPCODE_MASK.search("x & 0x0F") and not _OPCODE_MASK.search("imm & 0xFFFFFFFF")
    assert not _OPCODE_MASK.search("if state[w] & 0xF0 == _DISCOVERED:")


def test_only_isa_knows_where_opcode_fields_sit():
    """Outside isa/, opcode fields are read through ``isa.fields`` masks or ``Instruction``
    properties (``cls``, ``mode``, ``jmp_op``...), never with a literal mask."""
    assert _hand_masks() == []
