from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.errors import BpfBuildError
from bpfbuild.toolchain.depfile import parse_depfile


def test_clang_depfile_with_continuations():
    text = "build/x.bpf.o.tmp: programs/x.bpf.c /usr/include/linux/bpf.h \\\n  programs/parsing.h \\\n  /usr/include/bpf/bpf_helpers.h\n"
    assert parse_depfile(text) == (
        "programs/x.bpf.c", "/usr/include/linux/bpf.h", "programs/parsing.h", "/usr/include/bpf/bpf_helpers.h")


def test_escaped_spaces_dollars_and_phony_rules():
    text = "a.o: my\\ dir/h.h cost$$.h\nmy\\ dir/h.h:\n"
    assert parse_depfile(text) == ("my dir/h.h", "cost$.h")


def test_duplicates_are_listed_once():
    assert parse_depfile("a.o: x.h y.h x.h\n") == ("x.h", "y.h")


def test_a_line_without_a_target_is_an_error():
    try:
        parse_depfile("just words\n", file="build/a.d")
    except BpfBuildError as exc:
        assert str(exc).startswith("build/a.d: ")
    else:
        raise AssertionError("expected an error")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_parses_or_fails_cleanly(text):
    try:
        parse_depfile(text)
    except BpfBuildError:
        pass
