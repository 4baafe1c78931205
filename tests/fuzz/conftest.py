"""Real objects for the fuzzers, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import build_objects


@pytest.fixture(scope="session")
def real_objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    from bpfbuild.errors import BpfBuildError

    try:
        objs = build_objects(Path(tmp_path_factory.mktemp("fuzzobj")))
    except BpfBuildError as exc:
        pytest.skip(f"no BPF compiler: {exc}")
    if not objs:
        pytest.skip("no program of programs/ compiled")
    return objs
