from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.abi import _helper_ids
from bpfbuild.abi.uapi import (
    HelperParam,
    header_label,
    main,
    parse_helpers,
    parse_prototype,
    render_helper_module,
)
from bpfbuild.errors import BpfBuildError

from .conftest import bpf_headers, kernel_enum, zig_include

HEADERS = bpf_headers()

# A small header in the pre-6.1 style (ids by position), written for these tests.
OLD_STYLE = """\
/* leading text
 *
 * Start of BPF helper function descriptions:
 *
 * void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)
 * \tDescription
 * \t\tFind *key* in *map*.
 *
 * \t\tSecond paragraph.
 * \tReturn
 * \t\tThe value, or **NULL**.
 *
 * u64 bpf_ktime_get_ns(void)
 * \tDescription
 * \t\tA clock.
 * \tReturn
 * \t\tNanoseconds.
 *
 * long bpf_trace_printk(const char *fmt, u32 fmt_size, ...)
 * \tDescription
 * \t\tPrint.
 * \tReturn
 * \t\tBytes written.
 */
#define __BPF_FUNC_MAPPER(FN)\t\t\\
\tFN(unspec),\t\t\t\\
\tFN(map_lookup_elem),\t\t\\
\tFN(trace_printk),\t\t\\
\tFN(ktime_get_ns),\t\t\\
\t/* */
"""


def test_old_style_mapper_numbers_by_position() -> None:
    helpers = parse_helpers(OLD_STYLE)
    assert [(h.id, h.name) for h in helpers] == [
        (1, "bpf_map_lookup_elem"), (2, "bpf_trace_printk"), (3, "bpf_ktime_get_ns")]
    lookup = helpers[0]
    assert lookup.ret_type == "void *"
    assert lookup.params == (HelperParam("struct bpf_map *", "map"), HelperParam("const void *", "key"))
    assert lookup.description == "Find *key* in *map*.\n\nSecond paragraph."
    assert lookup.returns == "The value, or **NULL**."
    assert helpers[1].variadic and not lookup.variadic
    assert helpers[2].params == () and helpers[2].prototype == "u64 bpf_ktime_get_ns(void)"


def test_new_style_mapper_uses_explicit_ids() -> None:
    text = OLD_STYLE.replace("FN(unspec),", "FN(unspec, 0, ##ctx)").replace(
        "FN(map_lookup_elem),", "FN(map_lookup_elem, 1, ##ctx)").replace(
        "FN(trace_printk),", "FN(trace_printk, 6, ##ctx)").replace(
        "FN(ktime_get_ns),", "FN(ktime_get_ns, 5, ##ctx)").replace(
        "#define __BPF_FUNC_MAPPER(FN)", "#define ___BPF_FUNC_MAPPER(FN, ctx...)")
    assert [(h.id, h.short_name) for h in parse_helpers(text)] == [
        (1, "map_lookup_elem"), (5, "ktime_get_ns"), (6, "trace_printk")]


@pytest.mark.parametrize(("mutation", "message"), [
    (("FN(ktime_get_ns),", ""), "documented but missing"),
    (("FN(ktime_get_ns),", "FN(ktime_get_ns),\tFN(jiffies64),"), "has no documentation"),
    (("Start of BPF helper function descriptions:", "Start of nothing"), "no helper documentation"),
    (("#define __BPF_FUNC_MAPPER(FN)", "#define SOMETHING_ELSE(FN)"), "no __BPF_FUNC_MAPPER"),
    (("FN(trace_printk),", "FN(map_lookup_elem),"), "lists a name twice"),
    (("u64 bpf_ktime_get_ns(void)", "u64 bpf_ktime_get_ns(void"), "not a helper prototype"),
    (("u64 bpf_ktime_get_ns(void)\n", "u64 bpf_ktime_get_ns(void)\n * \t\tstray text\n"),
     "outside a Description or Return"),
    (("descriptions:\n *\n", "descriptions:\n * \t\tearly\n *\n"), "before the first helper"),
    (("\n */\n#define", "\n#define"), "ended without"),
])
def test_inconsistent_headers_raise(mutation: tuple[str, str], message: str | None) -> None:
    old, new = mutation
    assert old in OLD_STYLE
    with pytest.raises(BpfBuildError) as info:
        parse_helpers(OLD_STYLE.replace(old, new, 1))
    if message:
        assert message in str(info.value)


def test_parse_prototype() -> None:
    ret, name, params = parse_prototype(
        "long bpf_map_update_elem(struct bpf_map *map, const void *key, const void *value, u64 flags)")
    assert (ret, name) == ("long", "bpf_map_update_elem")
    assert [str(p) for p in params] == ["struct bpf_map *map", "const void *key", "const void *value",
                                        "u64 flags"]
    assert parse_prototype("struct bpf_sock *bpf_sk_fullsock(struct bpf_sock *sk)")[0] == "struct bpf_sock *"
    for bad in ("", "long bpf_x(", "long notbpf(u32 a)", "long bpf_x(u32 a, ..., u32 b)", "bpf_x(u32 a)"):
        with pytest.raises(BpfBuildError):
            parse_prototype(bad)


@pytest.mark.parametrize("label", sorted(HEADERS))
def test_real_headers_parse(label: str) -> None:
    helpers = parse_helpers(HEADERS[label].read_text())
    assert len(helpers) > 200
    ids = [h.id for h in helpers]
    assert ids == sorted(set(ids)) and ids[0] == 1
    by_name = {h.name: h for h in helpers}
    update = by_name["bpf_map_update_elem"]
    assert update.id == 2
    assert update.declaration() == ("static long (* const bpf_map_update_elem)(struct bpf_map *map, "
                                    "const void *key, const void *value, u64 flags) = (void *) 2;")
    assert by_name["bpf_trace_printk"].variadic
    assert by_name["bpf_get_socket_cookie"].other_prototypes  # documented once per context type
    for h in helpers:
        assert h.description and h.returns, h.name
        assert parse_prototype(h.prototype) == (h.ret_type, h.name, h.params)


def test_declaration_maps_types() -> None:
    helpers = {h.name: h for h in parse_helpers(OLD_STYLE)}
    kernel_to_user = {"struct bpf_map *": "void *", "u64": "__u64", "u32": "__u32"}
    decl = helpers["bpf_map_lookup_elem"].declaration(lambda t: kernel_to_user.get(t, t))
    assert decl == "static void *(* const bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;"
    printk = helpers["bpf_trace_printk"].declaration(lambda t: kernel_to_user.get(t, t))
    assert printk == "static long (* const bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *) 2;"


def test_both_header_copies_agree_on_ids() -> None:
    if len(HEADERS) < 2:
        pytest.skip("needs both /usr/include/linux/bpf.h and ziglang's copy")
    parsed = {label: {h.name: h for h in parse_helpers(path.read_text())} for label, path in HEADERS.items()}
    system, zig = parsed["system"], parsed["ziglang"]
    common = system.keys() & zig.keys()
    assert len(common) > 200
    assert {n: system[n].id for n in common} == {n: zig[n].id for n in common}
    # the newer copy is a superset
    newer, older = (zig, system) if len(zig) >= len(system) else (system, zig)
    assert older.keys() <= newer.keys()


def test_generated_module_is_up_to_date() -> None:
    zig = zig_include()
    if zig is None:
        pytest.skip("ziglang (the generator's input) is not installed")
    header = zig / "linux/bpf.h"
    label = header_label(header)
    if label != _helper_ids.SOURCE:
        pytest.skip(f"generated from {_helper_ids.SOURCE!r}, this machine has {label!r}")
    fresh = render_helper_module(parse_helpers(header.read_text()), label)
    assert Path(_helper_ids.__file__).read_text() == fresh


def test_generated_module_header_names_generator() -> None:
    first = Path(_helper_ids.__file__).read_text().splitlines()[0]
    assert first.startswith("# Generated by python -m bpfbuild.abi.uapi from linux/bpf.h (")
    assert first.endswith("); do not edit")


def test_helper_ids_match_the_running_kernel(vmlinux_c: str) -> None:
    kernel = {k.removeprefix("BPF_FUNC_"): v for k, v in kernel_enum(vmlinux_c, "bpf_func_id").items()
              if k.startswith("BPF_FUNC_") and k != "BPF_FUNC_unspec"}
    ours = {name.removeprefix("bpf_"): ident for ident, name in _helper_ids.HELPER_NAMES.items()}
    assert ours == kernel


def test_main_writes_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = tmp_path / "bpf.h"
    header.write_text(OLD_STYLE)
    out = tmp_path / "ids.py"
    assert main([str(header), "-o", str(out)]) == 0
    namespace: dict[str, object] = {}
    exec(compile(out.read_text(), str(out), "exec"), namespace)  # noqa: S102 - our own output
    assert namespace["HELPER_NAMES"] == {1: "bpf_map_lookup_elem", 2: "bpf_trace_printk",
                                         3: "bpf_ktime_get_ns"}
    assert namespace["HELPER_PROTOTYPES"]["bpf_ktime_get_ns"] == "u64 bpf_ktime_get_ns(void)"  # type: ignore[index]
    assert main([]) == 2
    assert main([str(tmp_path / "missing.h"), "-o", str(out)]) == 1
    bad = tmp_path / "bad.h"
    bad.write_text("nothing here")
    assert main([str(bad), "-o", str(out)]) == 1
    assert "bad.h" in capsys.readouterr().err


def _fragments() -> list[str]:
    texts = [OLD_STYLE]
    texts += [p.read_text()[-60000:] for p in HEADERS.values()]
    return texts


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_only_raises_our_errors(text: str) -> None:
    try:
        parse_helpers(text)
    except BpfBuildError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_fragments()), st.integers(0, 10**6), st.integers(0, 10**6),
       st.text(max_size=30))
def test_damaged_headers_only_raise_our_errors(text: str, a: int, b: int, insert: str) -> None:
    lo, hi = sorted((a % (len(text) + 1), b % (len(text) + 1)))
    damaged = text[:lo] + insert + text[hi:]
    try:
        helpers = parse_helpers(damaged)
    except BpfBuildError:
        return
    assert all(h.name.startswith("bpf_") for h in helpers)
