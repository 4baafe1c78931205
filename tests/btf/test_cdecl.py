"""cdecl: declarators, definitions, and headers that clang compiles with the BTF's layout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bpfbuild.btf.cdecl import declaration, definition, dump_c_header
from bpfbuild.btf.ext import CoreReloKind, Ext
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import Int, Kind, Pointer, Struct, TypeTag, Union
from bpfbuild.errors import BTFError

from .btfwriter import BTFWriter

# the compiler doit would use (clang, else zig's): skips with the reason where there is none
needs_clang = pytest.mark.usefixtures("bpf_cc")


# -- declarators -----------------------------------------------------------------------------


def _declarations() -> tuple[Spec, list[tuple[int, str, str]]]:
    w = BTFWriter()
    i32 = w.int_("int", 4, 1)
    ch = w.int_("char", 1, 1)
    u32 = w.int_("unsigned int", 4)
    voidp = w.ptr(0)
    foo = w.struct("foo", 4, [("a", i32, 0)])
    cases: list[tuple[int, str, str]] = [
        (i32, "counter", "int counter"),
        (w.array(ch, i32, 15), "____fmt", "char ____fmt[15]"),
        (w.ptr(foo), "p", "struct foo *p"),
        (w.ptr(foo), "", "struct foo *"),
        (w.ptr(w.func_proto(i32, [("", voidp), ("", i32)])), "cb", "int (*cb)(void *, int)"),
        (w.array(w.ptr(foo), i32, 4), "arr", "struct foo *arr[4]"),
        (w.ptr(w.array(i32, i32, 4)), "p", "int (*p)[4]"),
        (w.ptr(w.const(ch)), "s", "const char *s"),
        (w.const(w.ptr(ch)), "p", "char *const p"),
        (w.const(w.ptr(w.const(ch))), "p", "const char *const p"),
        (w.volatile(w.const(i32)), "v", "volatile const int v"),
        (w.restrict(w.ptr(ch)), "p", "char *restrict p"),
        (w.ptr(w.ptr(ch)), "argv", "char **argv"),
        (w.array(w.array(i32, i32, 3), i32, 2), "m", "int m[2][3]"),
        (w.const(w.array(ch, i32, 4)), "name", "const char name[4]"),
        (w.ptr(w.func_proto(w.ptr(w.func_proto(i32, [("", i32)])), [("", ch)])), "f",
         "int (*(*f)(char))(int)"),
        (w.array(w.ptr(w.func_proto(0, [])), i32, 2), "ops", "void (*ops[2])(void)"),
        (w.ptr(w.func_proto(i32, [("", w.ptr(w.const(ch)))], variadic=True)), "printk",
         "int (*printk)(const char *, ...)"),
        (w.ptr(w.typedef("u32", u32)), "x", "u32 *x"),
        (w.struct("", 8, [("x", i32, 0), ("y", i32, 32)]), "pt", "struct {\n\tint x;\n\tint y;\n} pt"),
        (w.ptr(w.type_tag("user", ch)), "buf", 'char __attribute__((btf_type_tag("user"))) *buf'),
        (w.func("main", w.func_proto(i32, [("argc", i32), ("argv", w.ptr(w.ptr(ch)))])), "",
         "int main(int argc, char **argv)"),
        (w.var("counter", i32), "", "int counter"),
        (w.enum("", 4, [("A", 1)]), "e", "enum {\n\tA = 1,\n} e"),
        (w.ptr(w.fwd("later", union=True)), "u", "union later *u"),
    ]
    return Spec.from_bytes(w.to_bytes()), cases


_SPEC, _CASES = _declarations()


@pytest.mark.parametrize(("type_id", "name", "text"), _CASES, ids=[c[2].split("\n")[0] for c in _CASES])
def test_declarations(type_id: int, name: str, text: str) -> None:
    assert declaration(_SPEC, type_id, name) == text


def test_qualifiers_can_be_dropped() -> None:
    const_ptr_const = next(tid for tid, _, text in _CASES if text == "const char *const p")
    assert declaration(_SPEC, const_ptr_const, "p", qualifiers=False) == "char *p"
    volatile = next(tid for tid, _, text in _CASES if text == "volatile const int v")
    assert declaration(_SPEC, volatile, "v", qualifiers=False) == "int v"


def test_prototype_parameter_names_are_optional() -> None:
    main = _SPEC.find_one("main")
    assert declaration(_SPEC, main, param_names=False) == "int main(int, char **)"
    assert declaration(_SPEC, main, "entry") == "int entry(int argc, char **argv)"


def test_section_and_tag_records_are_not_c_types() -> None:
    w = BTFWriter()
    i = w.int_("int", 4, 1)
    v = w.var("x", i)
    sec = w.datasec(".data", 4, [(v, 0, 4)])
    tag = w.decl_tag("t", v)
    spec = Spec.from_bytes(w.to_bytes())
    for type_id in (sec, tag):
        with pytest.raises(BTFError, match="not a C type"):
            declaration(spec, type_id, "x")
    with pytest.raises(BTFError, match="no C definition"):
        definition(spec, i)


# -- definitions -----------------------------------------------------------------------------


def _definitions() -> tuple[Spec, dict[str, int]]:
    w = BTFWriter()
    i32 = w.int_("int", 4, 1)
    u32 = w.int_("unsigned int", 4)
    ch = w.int_("char", 1, 1)
    i64 = w.int_("long", 8, 1)
    u3 = w.int_("unsigned int", 4, bits=3)  # old-style bitfield: bits live in the INT
    ids = {
        "flags": w.struct("flags", 8, [("a", u32, 0, 1), ("b", u32, 1, 3), ("c", i32, 32)]),
        "oldbits": w.struct("oldbits", 4, [("lo", u3, 0), ("hi", u3, 3)]),
        "packed": w.struct("packed", 9, [("c", ch, 0), ("v", i64, 8)]),
        "gap": w.struct("gap", 12, [("a", i32, 0), ("b", i32, 64)]),
        "tail": w.struct("tail", 64, [("a", i32, 0)]),
        "empty": w.struct("empty", 0, []),
        "giant": w.struct("giant", 0xFFFFFFF8, [("a", i32, 0)]),
        "wide": w.union("wide", 8, [("x", i32, 0)]),
        "e": w.enum("e", 4, [("NEG", -1), ("POS", 7)], signed=True),
        "small": w.enum("small", 1, [("S0", 0), ("S1", 1)]),
        "big": w.enum64("big", 8, [("HUGE", 1 << 63), ("MIN", 1)]),
        "fwd": w.fwd("later", union=True),
    }
    a = w.typedef("a_t", i32)
    ids["b_t"] = w.typedef("b_t", a)
    ids["nested"] = w.struct("nested", 12, [
        ("tag", i32, 0),
        ("", w.union("", 8, [("i", i32, 0),
                             ("", w.struct("", 8, [("lo", i32, 0), ("hi", i32, 32)]), 0)]), 32),
    ])
    return Spec.from_bytes(w.to_bytes()), ids


_DEFS, _IDS = _definitions()

_EXPECTED = {
    "flags": "struct flags {\n\tunsigned int a: 1;\n\tunsigned int b: 3;\n\tint c;\n};",
    "oldbits": "struct oldbits {\n\tunsigned int lo: 3;\n\tunsigned int hi: 3;\n};",
    "packed": "struct packed {\n\tchar c;\n\tlong v;\n} __attribute__((packed));",
    "gap": "struct gap {\n\tint a;\n\tint: 32;\n\tint b;\n};",
    "tail": "struct tail {\n\tint a;\n\tint: 32;\n" + "\tlong: 64;\n" * 7 + "};",
    "empty": "struct empty {};",
    "giant": "struct giant {\n\tint a;\n\tchar __pad_4[4294967284];\n};",
    "wide": "union wide {\n\tint x;\n} __attribute__((aligned(8)));",
    "e": "enum e {\n\tNEG = -1,\n\tPOS = 7,\n};",
    "small": "enum small {\n\tS0 = 0,\n\tS1 = 1,\n} __attribute__((mode(QI)));",
    "big": "enum big {\n\tHUGE = 9223372036854775808ULL,\n\tMIN = 1,\n};",
    "fwd": "union later;",
    "b_t": "typedef a_t b_t;",
    "nested": "struct nested {\n\tint tag;\n\tunion {\n\t\tint i;\n\t\tstruct {\n"
              "\t\t\tint lo;\n\t\t\tint hi;\n"
              "\t\t};\n\t};\n};",
}


@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_definitions(name: str) -> None:
    assert definition(_DEFS, _IDS[name]) == _EXPECTED[name]


# -- headers that compile --------------------------------------------------------------------


def _zoo() -> BTFWriter:
    """Types whose C layout is easy to get wrong, and names that collide."""
    w = BTFWriter()
    i32 = w.int_("int", 4, 1)
    u32 = w.int_("unsigned int", 4)
    ch = w.int_("char", 1, 1)
    u8 = w.int_("unsigned char", 1)
    i64 = w.int_("long", 8, 1)
    u16 = w.int_("short unsigned int", 2)
    i128 = w.int_("__int128", 16, 1)
    # ordering: 'outer' (low id) embeds 'inner' (defined later) by value, and an array of it
    inner_id = w.next_id + 1
    w.struct("outer", 40, [("first", inner_id, 0), ("more", w.next_id + 2, 64)])
    w.struct("inner", 8, [("x", i32, 0), ("y", i32, 32)])
    w.array(inner_id, i32, 4)
    # mutual pointers, and a struct first mentioned in a prototype's parameters
    node_a = w.next_id
    node_b, p_b, p_a, proto, p_proto, only, p_only = range(node_a + 1, node_a + 8)
    w.struct("node_a", 16, [("b", p_b, 0), ("cb", p_proto, 64)])
    w.struct("node_b", 8, [("a", p_a, 0)])
    w.ptr(node_b)
    w.ptr(node_a)
    w.func_proto(i32, [("", p_only)])
    w.ptr(proto)
    w.struct("only_in_proto", 4, [("z", i32, 0)])
    assert w.ptr(only) == p_only
    # packing and padding
    packed = w.struct("packed_pair", 9, [("c", ch, 0), ("v", i64, 8)])
    w.struct("holds_packed", 24, [("c", ch, 0), ("p", packed, 8), ("tail", i32, 160)])
    w.struct("const_anon", 12, [("", w.const(w.struct("", 8, [("va", i32, 0), ("vb", i32, 32)])), 0),
                                ("after", i32, 64)])
    w.struct("tagged", 8, [("buf", w.ptr(w.type_tag("user", ch)), 0)])
    w.struct("huge_gap", 8200, [("a", i32, 0), ("z", i64, 8192 * 8)])  # padding as one char array
    w.struct("natbits", 8, [("a", u32, 0, 1), ("b", u32, 1, 3), ("c", u8, 8, 2), ("d", i64, 32, 20)])
    w.struct("cacheline", 128, [("hot", i64, 0), ("cold", i64, 512)])
    w.struct("bits", 16, [("a", u32, 0, 1), ("b", u32, 1, 30), ("c", u32, 31, 2), ("d", i64, 64, 40),
                          ("e", u8, 104, 8)])
    w.struct("straddle", 8, [("a", u8, 0), ("b", u32, 20, 20)])  # packed bitfield crossing an int
    w.struct("wide_int", 32, [("c", ch, 0), ("v", i128, 128)])
    w.union("aligned_union", 16, [("x", i32, 0), ("y", u16, 0)])
    # enums of every size, used as members
    e1 = w.enum("e_byte", 1, [("EB0", 0), ("EB1", 200)])
    e2 = w.enum("e_short", 2, [("ES0", 0), ("ES1", 40000)])
    e8 = w.enum("e_long", 8, [("EL0", 0), ("EL1", 1)])
    big = w.enum64("e_huge", 8, [("EH_MAX", (1 << 64) - 1), ("EH_NEG", 5)])
    signed64 = w.enum64("e_signed", 8, [("ESN", -(1 << 63)), ("ESP", 1)], signed=True)
    w.struct("has_enums", 32, [("b", e1, 0), ("s", e2, 16), ("l", e8, 64), ("h", big, 128),
                               ("n", signed64, 192)])
    # anonymous enum used by two members, and one only as a constant
    anon = w.enum("", 4, [("ANON_A", 1), ("ANON_B", 2)])
    w.struct("uses_anon", 8, [("one", anon, 0), ("two", anon, 32)])
    w.enum("", 4, [("ZOO_CONST", 5)])
    # typedefs: of an anonymous struct, a chain, a function pointer
    w.typedef("pair_t", w.struct("", 8, [("l", i32, 0), ("r", i32, 32)]))
    w.typedef("pair2_t", w.next_id - 1)
    w.typedef("handler_t", w.ptr(w.func_proto(0, [("", w.ptr(w.fwd("opaque")))])))
    # collisions: two different 'struct dup', 'enum dup' (tag namespace), typedef vs enumerator
    w.struct("dup", 4, [("one", i32, 0)])
    w.struct("dup", 8, [("one", i32, 0), ("two", i32, 32)])
    w.enum("dup", 4, [("DUP_X", 1)])
    w.enum("other", 4, [("DUP_X", 2)])
    w.typedef("ANON_A", i32)
    w.fwd("inner")  # a forward declaration of an existing struct keeps its name
    w.fwd("nowhere")
    return w


def _layout_of(spec: Spec, type_id: int) -> tuple[int, list[tuple[str, int, int]]]:
    """Size and (name, bit offset, bitfield width) of the named members of a struct/union,
    members of anonymous members included (at their offset in the outer type)."""
    t = spec.type(type_id)
    assert isinstance(t, (Struct, Union))
    members: list[tuple[str, int, int]] = []
    for m in t.members:
        offset, width = m.bit_offset, m.bitfield_size
        under = spec.resolve(m.type)
        if not width and isinstance(under, Int) and under.bits != 8 * under.size:
            offset, width = offset + under.offset, under.bits
        if m.name:
            members.append((m.name, offset, width))
        elif isinstance(under, (Struct, Union)) and not under.name:
            members += [(name, offset + inner, w) for name, inner, w in _layout_of(spec, under.id)[1]]
    return t.size, members


def _compile(tmp_path: Path, header: str, program: str, *flags: str) -> Path:
    (tmp_path / "gen.h").write_text(header)
    src = tmp_path / "prog.c"
    src.write_text('#include "gen.h"\n' + program)
    obj = tmp_path / "prog.o"
    from tests.bpfcc import find

    proc = find().run(src, obj, cflags=["-Wall", "-Werror", "-Wno-unused-variable",
                                         "-Wno-unused-command-line-argument", *flags])
    assert proc.returncode == 0, proc.stderr[:4000]
    return obj


def _section(obj: Path, name: str) -> bytes:
    from elftools.elf.elffile import ELFFile

    with obj.open("rb") as f:
        section = ELFFile(f).get_section_by_name(name)
        assert section is not None, f"{obj} has no {name}"
        return section.data()  # type: ignore[no-any-return]


def _btf_of(obj: Path) -> Spec:
    return Spec.from_bytes(_section(obj, ".BTF"))


def _roundtrip_program(spec: Spec, only: set[int] | None = None) -> str:
    """One global per named struct/union (by value: clang may emit a FWD for a pointee)."""
    lines = []
    for tid in spec:
        wanted = only is None or tid in only
        if spec.kind_of(tid) in (Kind.STRUCT, Kind.UNION) and spec.name_of(tid) and wanted:
            keyword = "struct" if spec.kind_of(tid) == Kind.STRUCT else "union"
            lines.append(f"{keyword} {_c_name(spec, tid)} use_{tid};")
    return "\n".join(lines) + "\n"


def _c_name(spec: Spec, tid: int) -> str:
    """The name the header gave a struct: its own, or the ___N one of the same layout."""
    name = spec.name_of(tid)
    tags = (Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64)
    same = [i for i in spec.find(name) if spec.kind_of(i) in tags]
    rank = same.index(tid)
    return name if rank == 0 else f"{name}___{rank + 1}"


@needs_clang
def test_zoo_header_compiles_with_the_btf_layout(tmp_path: Path) -> None:
    spec = Spec.from_bytes(_zoo().to_bytes())
    header = dump_c_header(spec, guard="__ZOO_H__", preserve_access_index=False)
    checks = _roundtrip_program(spec) + (
        "_Static_assert(ZOO_CONST == 5, \"anonymous enum constant\");\n"
        "_Static_assert(DUP_X == 1 && DUP_X___2 == 2, \"enumerators renamed\");\n"
        "_Static_assert(sizeof(ANON_A___2) == 4, \"typedef renamed after enumerator\");\n"
        "_Static_assert(sizeof(enum dup___3) == 4 && sizeof(struct dup___2) == 8, \"tags renamed\");\n"
        "_Static_assert(sizeof(pair2_t) == 8 && sizeof(handler_t) == 8, \"typedefs\");\n"
        "_Static_assert(sizeof(enum e_byte) == 1 && sizeof(enum e_long) == 8, \"enum sizes\");\n"
    )
    obj = _compile(tmp_path, header, checks)
    again = _btf_of(obj)
    compared = 0
    for tid in spec:
        if spec.kind_of(tid) not in (Kind.STRUCT, Kind.UNION) or not spec.name_of(tid):
            continue
        (mine,) = again.find(_c_name(spec, tid), spec.kind_of(tid))
        size, members = _layout_of(again, mine)
        members = [m for m in members if not m[0].startswith("__pad_")]  # padding arrays we added
        assert (size, members) == _layout_of(spec, tid), spec.name_of(tid)
        compared += 1
    assert compared == 20
    tagged = again.type(again.find_one("tagged", Struct))
    assert isinstance(tagged, Struct)
    pointer = again.type(tagged.members[0].type)
    assert isinstance(pointer, Pointer)
    assert again.type(pointer.type) == TypeTag(pointer.type, "user", again.find_one("char"))
    assert header.index("struct inner {") < header.index("struct outer {")
    assert "struct only_in_proto;" in header and "struct nowhere;" in header
    assert "struct inner___" not in header  # the FWD named inner is the same type
    assert "\tchar __pad_4[8188];\n\tlong z;" in header
    assert "struct const_anon {\n\tconst struct {\n\t\tint va;" in header


def test_header_wrapping_options() -> None:
    spec = Spec.from_bytes(_zoo().to_bytes())
    text = dump_c_header(spec, source="zoo")
    assert text.startswith("/* Generated by bpfbuild.btf.cdecl from zoo")
    assert "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__" in text
    assert ("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push "
            "(__attribute__((preserve_access_index)), apply_to = record)\n#endif") in text
    assert text.rstrip().endswith("#endif /* __VMLINUX_H__ */")
    bare = dump_c_header(spec, guard=None, preserve_access_index=False)
    assert "#ifndef" not in bare and "#pragma" not in bare
    subset = dump_c_header(spec, ids=[spec.find_one("outer")], guard=None, preserve_access_index=False)
    assert "struct inner {" in subset and "struct outer {" in subset and "node_a" not in subset


def test_embedding_itself_by_value_is_an_error() -> None:
    w = BTFWriter()
    w.struct("loop", 4, [("self", 1, 0)])
    with pytest.raises(BTFError, match="contains itself"):
        dump_c_header(Spec.from_bytes(w.to_bytes()))


def test_long_chains() -> None:
    w = BTFWriter()
    w.int_("int", 4, 1)
    for i in range(5000):
        w.ptr(i + 1)
    for i in range(5000):
        w.typedef(f"t{i}", 1 if i == 0 else w.next_id - 1)
    spec = Spec.from_bytes(w.to_bytes())
    assert declaration(spec, 3, "p") == "int **p"
    assert declaration(spec, 5001, "p") == "int " + "*" * 5000 + "p"  # declarators are iterative
    header = dump_c_header(spec, guard=None, preserve_access_index=False)
    assert header.count("typedef") == 5000 and "typedef t4998 t4999;" in header


def test_too_deep_nesting_is_a_btf_error() -> None:
    w = BTFWriter()
    for i in range(3000):  # s0 embeds s1 embeds s2 ... (outermost first)
        w.struct(f"s{i}", 4, [("m", i + 2, 0)])
    w.int_("int", 4, 1)
    spec = Spec.from_bytes(w.to_bytes())
    assert spec.align_of(1) == 4  # spec queries do not recurse
    with pytest.raises(BTFError, match="nests too deeply"):
        dump_c_header(spec)


# -- vmlinux ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vmlinux_header(vmlinux: Spec) -> str:
    return dump_c_header(vmlinux, source="/sys/kernel/btf/vmlinux")


VMLINUX_PROGRAM = r"""
#define SEC(name) __attribute__((section(name), used))

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data > 14 ? 2 : 1;
}

SEC("tp_btf/sched_switch")
int on_switch(unsigned long long *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx[1];
	struct sk_buff *skb = (struct sk_buff *)ctx[2];
	return task->pid + task->tgid + skb->len;
}
"""


@needs_clang
def test_vmlinux_header_compiles_and_keeps_core(vmlinux: Spec, vmlinux_header: str, tmp_path: Path) -> None:
    obj = _compile(tmp_path, vmlinux_header, VMLINUX_PROGRAM)
    btf = _btf_of(obj)
    ext = Ext.from_bytes(_section(obj, ".BTF.ext"), btf)
    relos = [r for rs in ext.core_relos.values() for r in rs]
    # preserve_access_index applied: every field access is a CO-RE relocation
    fields = {(btf.name_of(r.type_id), r.kind) for r in relos}
    assert ("task_struct", CoreReloKind.FIELD_BYTE_OFFSET) in fields
    assert ("sk_buff", CoreReloKind.FIELD_BYTE_OFFSET) in fields
    assert ("xdp_md", CoreReloKind.FIELD_BYTE_OFFSET) in fields
    # without the pragma there are none
    plain = _compile(tmp_path, vmlinux_header, VMLINUX_PROGRAM, "-DBPF_NO_PRESERVE_ACCESS_INDEX")
    plain_ext = Ext.from_bytes(_section(plain, ".BTF.ext"), _btf_of(plain))
    assert not any(plain_ext.core_relos.values())


@needs_clang
def test_vmlinux_header_has_the_btf_layout(vmlinux: Spec, vmlinux_header: str, tmp_path: Path) -> None:
    """sizeof and offsetof (of every member, inside anonymous ones too) of every uniquely
    named struct/union match the BTF."""
    asserts = []
    for tid in vmlinux:
        kind = vmlinux.kind_of(tid)
        if kind not in (Kind.STRUCT, Kind.UNION) or not vmlinux.name_of(tid):
            continue
        name = vmlinux.name_of(tid)
        tags = (Kind.STRUCT, Kind.UNION, Kind.ENUM)
        if len([i for i in vmlinux.find(name) if vmlinux.kind_of(i) in tags]) != 1:
            continue
        c = f"{kind.name.lower()} {name}"
        size, members = _layout_of(vmlinux, tid)  # members of anonymous members included
        asserts.append(f"_Static_assert(sizeof({c}) == {size}, \"{c}\");")
        for member, bit_offset, width in members:
            if not width:
                asserts.append(f"_Static_assert(__builtin_offsetof({c}, {member}) == {bit_offset // 8}, "
                               f"\"{c}.{member}\");")
    assert len(asserts) > 10_000
    # compiled, not -fsyntax-only (which zig cc cannot combine with -o): no code, as fast
    _compile(tmp_path, vmlinux_header, "\n".join(asserts) + "\n")


def test_vmlinux_header_names(vmlinux: Spec, vmlinux_header: str) -> None:
    assert "struct task_struct {" in vmlinux_header
    assert "typedef __builtin_va_list va_list;" in vmlinux_header
    assert "typedef struct __va_list_tag __builtin_va_list" not in vmlinux_header
    dups = [n for n in ("syscall_tp_t",) if len(vmlinux.find(n, Struct)) > 1]
    for name in dups:
        assert f"struct {name}___2 {{" in vmlinux_header


@needs_clang
def test_vmlinux_bitfields_survive_a_round_trip(vmlinux: Spec, vmlinux_header: str, tmp_path: Path) -> None:
    """Structs with bitfields (the layout offsetof cannot check): BTF -> C -> clang -> BTF."""
    chosen = {tid for tid in vmlinux
              if vmlinux.kind_of(tid) in (Kind.STRUCT, Kind.UNION) and vmlinux.name_of(tid)
              and any(width for _, _, width in _layout_of(vmlinux, tid)[1])}
    assert len(chosen) > 100
    again = _btf_of(_compile(tmp_path, vmlinux_header, _roundtrip_program(vmlinux, chosen)))
    for tid in sorted(chosen):
        (mine,) = again.find(_c_name(vmlinux, tid), vmlinux.kind_of(tid))
        assert _layout_of(again, mine) == _layout_of(vmlinux, tid), vmlinux.name_of(tid)


# -- kfunc declarations (a kernel's vmlinux.h, as bpftool writes it) ----------------------------


def _kernel_like() -> tuple[Spec, dict[str, int]]:
    w = BTFWriter()
    i32 = w.int_("int", 4, 1)
    task = w.struct("task_struct", 4, [("pid", i32, 0)])
    ptask = w.ptr(task)
    from_pid = w.func("bpf_task_from_pid", w.func_proto(ptask, [("pid", i32)]))
    release = w.func("bpf_task_release", w.func_proto(0, [("p", ptask)]))
    cast = w.func("bpf_cast_to_kern_ctx", w.func_proto(w.ptr(0), [("obj", w.ptr(0))]))
    plain = w.func("schedule", w.func_proto(0, []))
    for f in (from_pid, release, cast, from_pid):    # a function tagged twice is declared once
        w.decl_tag("bpf_kfunc", f)
    w.decl_tag("bpf_fastcall", cast)
    w.decl_tag("bpf_kfunc", release, component_idx=0)  # a parameter's tag marks no kfunc
    return Spec.from_bytes(w.to_bytes()), {"from_pid": from_pid, "release": release, "cast": cast, "plain": plain}


def test_kfuncs_are_declared_weak_ksym_behind_bpftools_guard() -> None:
    from bpfbuild.btf.cdecl import kfunc_ids

    spec, ids = _kernel_like()
    assert kfunc_ids(spec) == [ids["from_pid"], ids["release"], ids["cast"]]
    text = dump_c_header(spec, kfuncs=True)
    block = text[text.index("#ifndef BPF_NO_KFUNC_PROTOTYPES"):text.index("#endif /* BPF_NO_KFUNC_PROTOTYPES */")]
    externs = [line for line in block.splitlines() if line.startswith("extern ")]
    assert externs == ["extern struct task_struct *bpf_task_from_pid(int pid) __weak __ksym;",
                       "extern void bpf_task_release(struct task_struct *p) __weak __ksym;",
                       "extern void *bpf_cast_to_kern_ctx(void *obj) __weak __ksym __bpf_fastcall;"]
    assert "schedule" not in block
    assert "BPF_NO_KFUNC_PROTOTYPES" not in dump_c_header(spec)     # only where asked (a kernel's vmlinux.h)


_KSYM = '__attribute__((section(".ksyms")))'


@pytest.mark.parametrize("own, call, flags", [
    ("", "1", ()),                                                              # the header's declaration
    (f"extern struct task_struct *bpf_task_from_pid(int pid) {_KSYM};", "1", ()),  # redeclared the same
    (f"extern struct task_struct *bpf_task_from_pid(long pid, int f) {_KSYM};", "1, 0",
     ("-DBPF_NO_KFUNC_PROTOTYPES",)),                                           # its own, opted out
])
def test_programs_with_or_without_their_own_kfunc_declarations_compile(tmp_path: Path, own: str, call: str,
                                                                       flags: tuple[str, ...]) -> None:
    spec, _ = _kernel_like()
    program = own + """
__attribute__((section("tp_btf/x"), used)) int prog(void *ctx)
{
	return bpf_task_from_pid(%s) ? 1 : 0;
}
""" % call
    assert _compile(tmp_path, dump_c_header(spec, kfuncs=True), program, *flags).exists()
