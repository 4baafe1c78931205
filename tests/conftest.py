"""Shared test hooks.

``kernel_probe`` is what the running kernel offers (:func:`bpfbuild.kernel.probe.probe_kernel`,
once per session); tests that compare bpfbuild's tables with the kernel derive what to expect
from it and skip, with the reason, what this kernel lacks by configuration.  Other kernels are
simulated with ``--probe-file=FILE`` (a saved ``bpfbuild probe --json``) and
``--probe-without=helper:bpf_loop,map:RINGBUF,prog:XDP,kfunc:NAME`` (the probe minus those):
the affected tests must then skip with the reason, not fail.

Tests marked ``kernel`` (or using the ``requires_kernel`` fixture) need the kernel bridge:
libbpf.so.1, permission for bpf() (root or CAP_BPF) and a bpffs.  Where that is missing
they skip with :func:`bpfbuild.kernel.availability`'s one-line reason, computed once per
session.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Property tests are deterministic by default: the same examples on every run, so CI cannot fail on a
# lucky draw (a failure is then reproducible by anyone).  ``--hypothesis-profile=explore`` draws new
# random examples (and benchmarks/fuzz.py runs the long randomised campaigns).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile("ci")

_KERNEL_REASON = pytest.StashKey[str | None]()
_PROBE = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bpfbuild")
    group.addoption("--probe-file", default=os.environ.get("BPFBUILD_TEST_PROBE"), metavar="FILE",
                    help="use this saved `bpfbuild probe --json` as the running kernel's probe "
                    "(env BPFBUILD_TEST_PROBE)")
    group.addoption("--probe-without", default=os.environ.get("BPFBUILD_TEST_PROBE_WITHOUT", ""),
                    metavar="KIND:NAME,...",
                    help="simulate a kernel lacking features: helper:NAME, map:TYPE, prog:TYPE, kfunc:NAME "
                    "(env BPFBUILD_TEST_PROBE_WITHOUT)")


def parse_without(text: str) -> dict[str, list[str]]:
    """``helper:bpf_loop,map:RINGBUF`` -> {"helpers": ["bpf_loop"], "map_types": ["RINGBUF"]}."""
    kinds = {"helper": "helpers", "map": "map_types", "prog": "prog_types", "kfunc": "kfuncs"}
    out: dict[str, list[str]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, _, name = item.partition(":")
        if kind not in kinds or not name:
            raise pytest.UsageError(f"--probe-without: {item!r}: expected helper:NAME, map:TYPE, prog:TYPE or kfunc:NAME")
        name = name.upper() if kind in ("map", "prog") else name
        out.setdefault(kinds[kind], []).append(name)
    return out


@pytest.fixture(scope="session")
def kernel_probe(request: pytest.FixtureRequest) -> Any:
    """The running kernel's probe (or the simulated one of --probe-file/--probe-without)."""
    config = request.config
    if _PROBE not in config.stash:
        from bpfbuild.errors import BpfBuildError
        from bpfbuild.kernel.probe import load_probe, probe_kernel

        path = config.getoption("--probe-file")
        try:
            probe = load_probe(path) if path else probe_kernel()
        except BpfBuildError as exc:
            probe = f"cannot probe the kernel: {exc}"
        else:
            without = parse_without(config.getoption("--probe-without") or "")
            if without:
                probe = probe.without(**without)
        config.stash[_PROBE] = probe
    probe = config.stash[_PROBE]
    if isinstance(probe, str):
        pytest.skip(probe)
    return probe


def kernel_unavailable(config: pytest.Config) -> str | None:
    """Why the kernel bridge cannot be used in this session (None: it can)."""
    if _KERNEL_REASON not in config.stash:
        from bpfbuild.kernel import availability

        config.stash[_KERNEL_REASON] = availability()
    return config.stash[_KERNEL_REASON]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("kernel") is not None:
        reason = kernel_unavailable(item.config)
        if reason is not None:
            pytest.skip(f"kernel: {reason}")


def lacking_features(obj: Any, probe: Any) -> list[str]:
    """What ``obj`` (an object path) uses that ``probe``'s kernel lacks although upstream offers
    it (configuration), as messages (bpfbuild's compat check against the probe as a target; a
    helper upstream refuses to the program type too is the program's mistake, not a lack)."""
    from bpfbuild.abi.kversions import KernelFeatures
    from bpfbuild.obj.compat import check_object
    from bpfbuild.obj.loader import load_object_file

    from bpfbuild.abi.protos import helper_allowed

    spec = load_object_file(obj)
    target = KernelFeatures.from_probe("running", probe.to_json())
    out = []
    for lack in check_object(spec, target):
        f = lack.feature
        if f.kind == "helper":
            prog_type = spec.program(f.program).prog_type
            if prog_type is not None and helper_allowed(f.key, prog_type, sleepable=True) is False:
                continue   # upstream refuses it too: that is what the test is about, not the kernel's config
        out.append(f"{f.program}: {lack.message}")
    return out


@pytest.fixture(scope="session")
def kernel_lacks(request: pytest.FixtureRequest) -> Any:
    """``kernel_lacks(obj) -> [message]``: features of an object the (possibly simulated) running
    kernel lacks; ``kernel_lacks.skip(obj)`` skips the test naming them.  Without a usable probe
    nothing is reported missing."""
    try:
        probe = request.getfixturevalue("kernel_probe")
    except pytest.skip.Exception:
        probe = None
    cache: dict[str, list[str]] = {}

    class _Lacks:
        def __call__(self, obj: Any) -> list[str]:
            if probe is None:
                return []
            key = str(obj)
            if key not in cache:
                cache[key] = lacking_features(obj, probe)
            return cache[key]

        def skip(self, obj: Any) -> None:
            found = self(obj)
            if found:
                pytest.skip(f"{probe.identity} lacks what {os.path.basename(str(obj))} uses: " + "; ".join(found))

    return _Lacks()


@pytest.fixture
def requires_kernel(request: pytest.FixtureRequest) -> None:
    """Skip the test (with the reason) unless the kernel bridge is usable."""
    reason = kernel_unavailable(request.config)
    if reason is not None:
        pytest.skip(f"kernel: {reason}")


@pytest.fixture(scope="session")
def bpf_cc() -> Any:
    """The BPF C compiler ``doit`` would use (clang, else zig's) with bpfbuild's include set
    (``tests/bpfcc.py``); skips with the reason where there is none."""
    from tests.bpfcc import Unavailable, find

    try:
        return find()
    except Unavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def bpf_cc_v4() -> Any:
    """A compiler that emits ``-mcpu=v4`` (clang >= 18: a clang-NN on PATH, else zig's)."""
    from tests.bpfcc import Unavailable, find

    try:
        return find(min_major=18)
    except Unavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def corpus_cc(bpf_cc: Any) -> Callable[[Path], Any]:
    """``cc(src)``: the compiler a verifier-corpus source is built with -- ``bpf_cc``, or for a
    source that says ``needs: clang >= N`` a clang that new (zig's counts; skips where there is none)."""
    from tests.bpfcc import Unavailable, find
    from tests.verifier.conftest import needs_clang

    def cc(src: Path) -> Any:
        need = needs_clang(src)
        if need <= bpf_cc.major:
            return bpf_cc
        try:
            return find(min_major=need)
        except Unavailable as exc:
            pytest.skip(f"{src.name}: {exc}")

    return cc


@pytest.fixture(scope="session")
def build_corpus(corpus_cc: Any, tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """``build(src) -> object path``: a verifier-corpus source compiled once per test run with the
    flags of its ``cflags:`` comment (by :func:`corpus_cc`'s compiler).  Under pytest-xdist the
    objects are shared by the workers (one directory beside theirs, a lock per object), so no
    source is compiled twice."""
    from tests.verifier.conftest import cflags_of

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        out = base.parent / "corpus-objects"
        out.mkdir(exist_ok=True)
    else:
        out = tmp_path_factory.mktemp("corpus")
    cache: dict[Path, Path] = {}

    def build(src: Path) -> Path:
        if src not in cache:
            cc = corpus_cc(src)
            obj = out / (src.name.removesuffix(".c") + ".o")
            with open(out / (obj.name + ".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                failed = out / (obj.name + ".failed")
                if failed.exists():
                    pytest.fail(f"cannot compile {src.name}:\n{failed.read_text()}")
                if not obj.exists():
                    tmp = obj.with_name(obj.name + ".tmp")
                    res = cc.run(src, tmp, cflags=cflags_of(src))
                    if res.returncode != 0:
                        failed.write_text(res.stderr)
                        pytest.fail(f"cannot compile {src.name}:\n{res.stderr}")
                    os.replace(tmp, obj)
            cache[src] = obj
        return cache[src]

    return build


# The longest test files (pytest-xdist sends a whole file to one worker: `--dist loadfile`), started
# first so that no worker is left alone with one of them at the end of the run.
_LONG_FILES = (
    "verifier/test_log.py", "tasks/test_build.py", "verifier/test_corpus.py", "skel/test_hostile_names.py",
    "verifier/test_differential_objects.py", "verifier/test_fuzz.py", "realworld/test_project.py",
    "vm/test_task_test.py", "tasks/test_hardening.py", "tasks/test_targets.py",
)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.path.as_posix()
        for i, name in enumerate(_LONG_FILES):
            if path.endswith("tests/" + name):
                return i
        return len(_LONG_FILES)

    items.sort(key=rank)   # stable: the order inside a file, and of the other files, is kept
