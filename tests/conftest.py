"""Shared test hooks.

Tests marked ``kernel`` (or using the ``requires_kernel`` fixture) need the kernel bridge:
libbpf.so.1, permission for bpf() (root or CAP_BPF) and a bpffs.  Where that is missing
they skip with :func:`bpfbuild.kernel.availability`'s one-line reason, computed once per
session.
"""

from __future__ import annotations

import pytest

_KERNEL_REASON = pytest.StashKey[str | None]()


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


@pytest.fixture
def requires_kernel(request: pytest.FixtureRequest) -> None:
    """Skip the test (with the reason) unless the kernel bridge is usable."""
    reason = kernel_unavailable(request.config)
    if reason is not None:
        pytest.skip(f"kernel: {reason}")
