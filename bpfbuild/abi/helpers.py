"""Helper ids, names and C prototypes (from the generated ``_helper_ids`` table).

The table is generated from the newest ``linux/bpf.h`` on the build machine by
``python -m bpfbuild.abi.uapi PATH``; nothing here reads a header.  Lookups accept the
helper's name with or without the ``bpf_`` prefix, or its id.

Which kernel: the committed table was generated from the UAPI header bundled with ziglang
0.17.1 (Linux 7.2.0; its first line says so), while the rest of :mod:`bpfbuild.abi` describes
Linux 6.18.  The helper list is the same in both: it has been frozen at ids 1..211
(``bpf_cgrp_storage_delete``) since Linux 6.2 -- new kernel functions are kfuncs -- and the
6.18.44 kernel's own BTF has ``__BPF_FUNC_MAX_ID = 212``.  Prototypes are the header's C text.
"""

from __future__ import annotations

import functools

from bpfbuild.abi.uapi import HelperDoc, parse_prototype

__all__ = [
    "all_helpers",
    "helper_id",
    "helper_name",
    "helper_prototype",
    "helper_signature",
    "helper_source",
]


@functools.cache
def _names() -> dict[int, str]:
    from bpfbuild.abi import _helper_ids

    return dict(_helper_ids.HELPER_NAMES)


@functools.cache
def _ids() -> dict[str, int]:
    return {name: ident for ident, name in _names().items()}


@functools.cache
def _prototypes() -> dict[str, str]:
    from bpfbuild.abi import _helper_ids

    return dict(_helper_ids.HELPER_PROTOTYPES)


def helper_source() -> str:
    """Which header the table was generated from (e.g. ``ziglang 0.17.1 ..., Linux 7.2.0 UAPI``)."""
    from bpfbuild.abi import _helper_ids

    return _helper_ids.SOURCE


def _key(helper: int | str) -> str | None:
    if isinstance(helper, int):
        return _names().get(helper)
    name = helper if helper.startswith("bpf_") else "bpf_" + helper
    return name if name in _ids() else None


def helper_name(helper_id: int) -> str | None:
    """``1`` -> ``"bpf_map_lookup_elem"``; None for an unknown id (and for 0, ``unspec``)."""
    return _names().get(helper_id)


def helper_id(name: str) -> int | None:
    """``"bpf_map_lookup_elem"`` or ``"map_lookup_elem"`` -> ``1``; None if unknown."""
    key = _key(name)
    return None if key is None else _ids()[key]


def helper_prototype(helper: int | str) -> str | None:
    """The C prototype the header documents, e.g. ``void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)``."""
    key = _key(helper)
    return None if key is None else _prototypes()[key]


@functools.cache
def helper_signature(helper: int | str) -> HelperDoc | None:
    """The helper as a :class:`HelperDoc` without documentation text (id, name, types)."""
    key = _key(helper)
    if key is None:
        return None
    ret, name, params = parse_prototype(_prototypes()[key])
    return HelperDoc(_ids()[key], name, ret, params)


def all_helpers() -> tuple[HelperDoc, ...]:
    """Every helper of the table, ordered by id."""
    return tuple(sig for ident in sorted(_names()) if (sig := helper_signature(ident)) is not None)
