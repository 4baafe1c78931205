from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.abi.helpers import (
    all_helpers,
    helper_id,
    helper_name,
    helper_prototype,
    helper_signature,
    helper_source,
)


def test_names_and_ids_round_trip() -> None:
    helpers = all_helpers()
    assert len(helpers) > 200
    for h in helpers:
        assert helper_name(h.id) == h.name
        assert helper_id(h.name) == h.id == helper_id(h.short_name)
        assert helper_prototype(h.id) == helper_prototype(h.name) == h.prototype


def test_well_known_helpers() -> None:
    assert helper_name(1) == "bpf_map_lookup_elem"
    assert helper_name(6) == "bpf_trace_printk"
    assert helper_id("ringbuf_reserve") == 131
    assert helper_prototype("bpf_ktime_get_ns") == "u64 bpf_ktime_get_ns(void)"
    sig = helper_signature("bpf_map_update_elem")
    assert sig is not None
    assert [p.ctype for p in sig.params] == ["struct bpf_map *", "const void *", "const void *", "u64"]
    assert sig.description == ""  # the table keeps prototypes only


def test_unknown_helpers() -> None:
    assert helper_name(0) is None  # unspec is not a helper
    assert helper_name(10_000) is None
    assert helper_id("bpf_no_such_helper") is None
    assert helper_prototype("nope") is None
    assert helper_signature(-1) is None


def test_source_names_a_header() -> None:
    assert "Linux" in helper_source() or "bpf.h" in helper_source()


@settings(max_examples=200, deadline=None)
@given(st.integers(-(2**40), 2**40) | st.text(max_size=30))
def test_lookups_never_raise(key: int | str) -> None:
    if isinstance(key, int):
        name = helper_name(key)
        assert name is None or helper_id(name) == key
    else:
        ident = helper_id(key)
        assert ident is None or helper_name(ident) is not None
