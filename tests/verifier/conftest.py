"""The verifier corpus: small C programs in ``corpus/`` with the kernel's verdict beside each.

``corpus/NAME.bpf.c`` is built with ``-target bpf -g -O2 -c`` (plus the flags of a ``cflags:``
comment in the file) by the compiler ``doit`` would use (``bpf_cc``: clang, else zig's, with
libbpf's headers or bpfbuild's bundled set); ``corpus/NAME.expect`` (TOML) holds
the running kernel's verdict on each of its programs: ``verdict``, and for a rejection the
kernel's ``message`` (its primary error line), the failing ``insn`` and the source ``line``
(absent where the kernel names no instruction), plus ``processed_insns``.

The labels are recorded from the kernel, never written by hand: ``test_corpus.py``'s kernel test
compares them with the running kernel, and with ``BPFBUILD_RELABEL=1`` rewrites them::

    BPFBUILD_RELABEL=1 python -m pytest tests/verifier -m kernel -k relabel

Each label file names the kernel it was recorded on (``[kernel] release``, ``version``: ``uname -r``
and ``uname -v``).  The processed-instruction count (and so the statistics line and the level-2
log) drifts between kernel builds; it is compared exactly only on that kernel, and elsewhere a
difference is reported as drift (:func:`processed_drift`), while verdict, message and line
must still match.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REPO = HERE.parents[1]

_CFLAGS_COMMENT = re.compile(r"cflags:([^*\n]*)")
# "needs: clang >= 18" in a source: a feature older compilers drop (kptr type tags in map values);
# it is built by a clang of that major or newer (a clang-NN on PATH, else zig's)
_NEEDS_CLANG = re.compile(r"needs: clang >= (\d+)")
# Lines the kernel prints after the error that are not the error (statistics, pruning dumps).
_TRAILER = re.compile(r"^(processed \d+ insns|verification time|stack depth|cur state:|old state:|"
                      r"Func#\d+ |Validating |func#\d+ @)")


_AFTER_INSN = re.compile(r"^\d+: \(\w\w\) .* ((?:infinite loop detected at insn|BPF program is too large\. Processed) \d+(?: insn)?)$")


def corpus_sources() -> list[Path]:
    return sorted(CORPUS.glob("*.bpf.c"))


def expect_path(src: Path) -> Path:
    return src.with_name(src.name.removesuffix(".bpf.c") + ".expect")


def needs_clang(src: Path) -> int:
    """The least clang major ``src`` must be built with (0: any)."""
    m = _NEEDS_CLANG.search(src.read_text())
    return int(m.group(1)) if m else 0


def cflags_of(src: Path) -> list[str]:
    m = _CFLAGS_COMMENT.search(src.read_text())
    return m.group(1).split() if m else []


_RECORDED_ON = re.compile(r"^# The kernel's verdict on .* \(Linux ([^)]+)\)", re.M)


def recorded_kernel(src: Path) -> tuple[str | None, str | None]:
    """(release, version) of the kernel ``src``'s labels were recorded on (older files name
    only the release, in their first comment)."""
    text = expect_path(src).read_text()
    kernel = tomllib.loads(text).get("kernel", {})
    if kernel:
        return kernel.get("release"), kernel.get("version")
    m = _RECORDED_ON.search(text)
    return (m.group(1) if m else None), None


def recorded_compiler(src: Path) -> str | None:
    """The compiler (first line of its ``--version``) that built the object ``src``'s labels were
    recorded from (``[compiler] version``)."""
    return tomllib.loads(expect_path(src).read_text()).get("compiler", {}).get("version")


def built_by_recorder(src: Path, cc: Any) -> bool:
    """Whether ``cc`` (a ``bpf_cc``) is the compiler ``src``'s labels were recorded with: only
    then are instruction indices and processed counts those of the same code.  Another compiler
    (zig's clang on a machine with only Python) makes other code from the same source: verdict,
    message and source line must still agree."""
    return recorded_compiler(src) == cc.compiler.version


def running_kernel() -> tuple[str, str]:
    return platform.release(), platform.version()


def recorded_here(src: Path) -> bool:
    """Whether the running kernel is the one ``src``'s labels were recorded on."""
    release, version = recorded_kernel(src)
    here_release, here_version = running_kernel()
    return release == here_release and (version is None or version == here_version)


_DRIFT: dict[tuple[Path, Path], dict[str, tuple[int, int]]] = {}


def processed_drift(src: Path, obj: Path) -> dict[str, tuple[int, int]]:
    """Programs of ``src`` whose processed-instruction count on the running kernel differs from
    the label recorded on another kernel build: name -> (label, running kernel).  Empty on the
    recording kernel itself (there a difference is a failure, not drift)."""
    key = (src, obj)
    if key not in _DRIFT:
        out: dict[str, tuple[int, int]] = {}
        if not recorded_here(src):
            labels = read_expect(src)
            for name, label in kernel_labels(obj).items():
                stored = labels.get(name, {}).get("processed_insns")
                now = label.get("processed_insns")
                if stored is not None and now is not None and stored != now:
                    out[name] = (stored, now)
        _DRIFT[key] = out
    return _DRIFT[key]


def drift_text(src: Path, drift: dict[str, tuple[int, int]]) -> str:
    release, version = recorded_kernel(src)
    here = " ".join(running_kernel())
    return "; ".join(f"{name}: processed {stored} insns on Linux {release}{' ' + version if version else ''} "
                     f"(label), {now} on Linux {here}" for name, (stored, now) in drift.items())


def read_expect(src: Path, compiler: str | None = None) -> dict[str, dict[str, Any]]:
    """The labels of ``src``: program name -> its label table.

    With ``compiler`` (a version line other than the labels' own), a ``[[variant]]`` the kernel
    gave for that compiler's code (``compiler``, ``name``, ``verdict``, ``message``, ``line``)
    replaces the label of its program: the few programs whose verdict depends on the code the
    compiler makes (recorded by the relabel test run with that compiler)."""
    data = tomllib.loads(expect_path(src).read_text())
    labels = {p["name"]: p for p in data.get("program", [])}
    for v in data.get("variant", []):
        if compiler is not None and v.get("compiler") == compiler and v.get("name") in labels:
            labels[v["name"]] = {k: val for k, val in v.items() if k != "compiler"}
    return labels


def write_variants(src: Path, compiler: str, variants: dict[str, dict[str, Any]]) -> None:
    """Replace ``compiler``'s ``[[variant]]`` labels of ``src`` with ``variants`` (program ->
    verdict, message, line the kernel gave for that compiler's code)."""
    text = expect_path(src).read_text()
    data = tomllib.loads(text)
    keep = [v for v in data.get("variant", []) if v.get("compiler") != compiler]
    head = text.split("\n[[variant]]\n", 1)[0].rstrip("\n") + "\n"
    blocks = []
    for v in keep + [{"compiler": compiler, **label} for label in variants.values()]:
        lines = ["[[variant]]"]
        for key in ("compiler", "name", "verdict", "message", "line"):
            if key in v:
                lines.append(f"{key} = {json.dumps(v[key]) if isinstance(v[key], str) else v[key]}")
        blocks.append("\n".join(lines) + "\n")
    expect_path(src).write_text("\n".join([head, *blocks]) if blocks else head)


def kernel_primary_message(log: str) -> str | None:
    """The kernel's error as the user should search it: its last line before any trailer.

    ``infinite loop detected at insn 4`` is followed by ``cur state:``/``old state:`` dumps;
    those and the statistics lines are not the message.
    """
    lines = [ln.rstrip() for ln in log.splitlines() if ln.strip()]
    while lines and _TRAILER.match(lines[-1]):
        lines.pop()
    if not lines:
        return None
    # at level 1 the message can follow the text of the instruction on the same line
    m = _AFTER_INSN.match(lines[-1])
    return m.group(1) if m else lines[-1]


def kernel_labels(obj: Path) -> dict[str, dict[str, Any]]:
    """The running kernel's labels for every program of ``obj``."""
    from bpfbuild.kernel import verdict
    from bpfbuild.obj.loader import load_object_file

    spec = load_object_file(obj)
    out: dict[str, dict[str, Any]] = {}
    for prog in spec.programs:
        k = verdict(obj, prog.name, log_level=1)
        label: dict[str, Any] = {"name": prog.name, "verdict": "accepted" if k.accepted else "rejected"}
        if not k.accepted:
            label["message"] = kernel_primary_message(k.log) or k.error_line or ""
            if k.insn is not None:
                label["insn"] = k.insn
                line = k.source.line if k.source is not None else None
                if line is None:
                    loc = prog.source_location(k.insn)
                    line = loc.line if loc is not None else None
                if line is not None:
                    label["line"] = line
        if k.processed_insns is not None:
            label["processed_insns"] = k.processed_insns
        out[prog.name] = label
    return out


def write_expect(src: Path, labels: dict[str, dict[str, Any]], compiler: str) -> None:
    """Store ``labels`` as recorded here, from an object ``compiler`` (its version line) built."""
    release, version = running_kernel()
    lines = [f"# The kernel's verdict on {src.name} (Linux {release}), recorded by",
             "# BPFBUILD_RELABEL=1 python -m pytest tests/verifier -m kernel -k relabel", "",
             "[kernel]", f"release = {json.dumps(release)}", f"version = {json.dumps(version)}", "",
             "[compiler]", f"version = {json.dumps(compiler)}", ""]
    for label in labels.values():
        lines.append("[[program]]")
        for key in ("name", "verdict", "message", "insn", "line", "processed_insns"):
            if key in label:
                value = label[key]
                lines.append(f"{key} = {json.dumps(value) if isinstance(value, str) else value}")
        lines.append("")
    expect_path(src).write_text("\n".join(lines))


@pytest.fixture(scope="session")
def corpus_lib() -> Any:
    """This module: the label helpers above, for the tests."""
    return sys.modules[__name__]


@pytest.fixture(scope="session")
def built_programs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """programs/ built by doit in a copy of the project (clang if present, else zig)."""
    import os

    root = tmp_path_factory.mktemp("verifyproj")
    shutil.copytree(REPO / "programs", root / "programs", ignore=shutil.ignore_patterns("*.toml"))
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    (root / "pyproject.toml").write_text("[tool.bpfbuild]\nverify = \"warn\"\n")
    env = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    res = subprocess.run([sys.executable, "-m", "doit", "build"], cwd=root, capture_output=True, text=True,
                         env=env, check=False)
    if res.returncode != 0:
        pytest.skip(f"cannot build programs/: {res.stderr[-500:]}")
    objects = sorted((root / "build").glob("*.bpf.o"))
    if not objects:
        pytest.skip("programs/ built no objects")
    return objects
