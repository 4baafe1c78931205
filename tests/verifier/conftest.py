"""The verifier corpus: small C programs in ``corpus/`` with the kernel's verdict beside each.

``corpus/NAME.bpf.c`` is built with ``clang -target bpf -I/usr/include/x86_64-linux-gnu -g -O2
-c`` (plus the flags of a ``cflags:`` comment in the file); ``corpus/NAME.expect`` (TOML) holds
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
CFLAGS = ("-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-g", "-O2")

_CFLAGS_COMMENT = re.compile(r"cflags:([^*\n]*)")
# Lines the kernel prints after the error that are not the error (statistics, pruning dumps).
_TRAILER = re.compile(r"^(processed \d+ insns|verification time|stack depth|cur state:|old state:|"
                      r"Func#\d+ |Validating |func#\d+ @)")


_AFTER_INSN = re.compile(r"^\d+: \(\w\w\) .* ((?:infinite loop detected at insn|BPF program is too large\. Processed) \d+(?: insn)?)$")


def corpus_sources() -> list[Path]:
    return sorted(CORPUS.glob("*.bpf.c"))


def expect_path(src: Path) -> Path:
    return src.with_name(src.name.removesuffix(".bpf.c") + ".expect")


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


def read_expect(src: Path) -> dict[str, dict[str, Any]]:
    """The labels of ``src``: program name -> its label table."""
    data = tomllib.loads(expect_path(src).read_text())
    return {p["name"]: p for p in data.get("program", [])}


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


def write_expect(src: Path, labels: dict[str, dict[str, Any]]) -> None:
    release, version = running_kernel()
    lines = [f"# The kernel's verdict on {src.name} (Linux {release}), recorded by",
             "# BPFBUILD_RELABEL=1 python -m pytest tests/verifier -m kernel -k relabel", "",
             "[kernel]", f"release = {json.dumps(release)}", f"version = {json.dumps(version)}", ""]
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
def clang() -> str:
    path = shutil.which("clang")
    if path is None:
        pytest.skip("clang is not installed (needed to build the verifier corpus)")
    return path


@pytest.fixture(scope="session")
def build_corpus(clang: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """``build(src) -> object path``, each source compiled once per session."""
    out = tmp_path_factory.mktemp("corpus")
    cache: dict[Path, Path] = {}

    def build(src: Path) -> Path:
        if src not in cache:
            obj = out / (src.name.removesuffix(".c") + ".o")
            res = subprocess.run([clang, *CFLAGS, *cflags_of(src), "-c", str(src), "-o", str(obj)],
                                 capture_output=True, text=True, check=False)
            if res.returncode != 0:
                pytest.fail(f"cannot compile {src.name}:\n{res.stderr}")
            cache[src] = obj
        return cache[src]

    return build


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
