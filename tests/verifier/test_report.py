"""Diagnostics: the kernel's message at the source line, the explanation and the hint."""

from __future__ import annotations

from bpfbuild.location import SourceLocation
from bpfbuild.verifier import Diagnostic, Report, explain


def test_common_mistakes_are_explained():
    for message in ("R0 invalid mem access 'map_value_or_null'", "R1 offset is outside of the packet",
                    "invalid read from stack off -8+0 size 8", "R0 !read_ok",
                    "BPF program is too large. Processed 1000001 insn", "invalid bpf_context access off=0 size=4",
                    "Unreleased reference id=2 alloc_insn=5",
                    "program of this type cannot use helper bpf_skb_store_bytes#9",
                    "cannot call GPL-restricted function from non-GPL compatible program",
                    "R6 invalid mem access 'ringbuf_mem_or_null'", "infinite loop detected at insn 4"):
        explanation, hint = explain(message)
        assert explanation and hint, message


def test_unknown_messages_have_no_explanation():
    assert explain("something the kernel never says") == ("", "")


def test_format_is_compiler_style():
    d = Diagnostic(7, SourceLocation("/abs/prog.bpf.c", 18, 9), "R0 invalid mem access 'map_value_or_null'",
                   *explain("R0 invalid mem access 'map_value_or_null'"), source="\t*count += 1;",
                   insn_text="(79) r1 = *(u64 *)(r0 +0)")
    lines = d.format("prog.bpf.c", "count").splitlines()
    assert lines[0] == "prog.bpf.c:18:9: error: R0 invalid mem access 'map_value_or_null'"
    assert lines[1] == "    18 | \t*count += 1;"
    assert lines[2] == "prog.bpf.c:18:9: note: in prog 'count', insn 7: (79) r1 = *(u64 *)(r0 +0)"
    assert lines[-1].startswith("  hint: ")


def test_format_without_line_info_names_the_object():
    d = Diagnostic(3, None, "R0 !read_ok")
    assert d.format("x.o").splitlines()[0] == "x.o: error: R0 !read_ok"


def test_json_record_keys_are_the_contract():
    d = Diagnostic(7, SourceLocation("/abs/prog.bpf.c", 18, 9), "msg")
    r = Report("p", "xdp", False, 7, (d,))
    record = r.as_dict(lambda f: f.rsplit("/", 1)[-1])
    assert list(record) == ["name", "section", "verdict", "processed_insns", "errors"]
    assert record["errors"] == [{"insn": 7, "file": "prog.bpf.c", "line": 18, "column": 9, "message": "msg"}]
    assert Report("p", "xdp", True, 3).as_dict()["verdict"] == "accepted"
