"""The assembler: round trips with the disassembler, pasted listings, labels, errors, fuzzing."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.errors import AsmError, format_error
from bpfbuild.isa import Instruction, assemble, decode, disassemble, format_insn, listing, opcode_table

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(data=st.data())
def test_assemble_inverts_disassemble(data: st.DataObject,
                                      valid_insn: st.SearchStrategy[Instruction]) -> None:
    program = tuple(data.draw(st.lists(valid_insn, max_size=25)))
    assert assemble(disassemble(program)) == program
    assert assemble(listing(program)) == program


@pytest.mark.parametrize("form", opcode_table().forms, ids=lambda f: f.name)
def test_each_form_has_exactly_one_text(form, insn_of) -> None:  # type: ignore[no-untyped-def]
    @settings(max_examples=15, deadline=None)
    @given(insn_of(form))
    def check(insn: Instruction) -> None:
        text = format_insn(insn)
        assert assemble(text) == (insn,), text
        assert assemble(f"  {text}  ; comment") == (insn,)

    check()


def test_comments_blank_lines_and_objdump_decorations() -> None:
    text = """
        ; a comment
        # another
        // and another

        hello.o:	file format elf64-bpf

        Disassembly of section xdp:

        0000000000000000 <hello>:
               0:	18 06 00 00 00 00 00 00 00 00 00 00 00 00 00 00	r6 = 0 ll
               2:	61 63 00 00 00 00 00 00	r3 = *(u32 *)(r6 + 0)   # trailing comment
               3:	2d 31 01 00 00 00 00 00	if r1 > r3 goto +1 <LBB0_2>
               4:	b7 00 00 00 02 00 00 00	r0 = 2

        0000000000000028 <LBB0_2>:
               5:	95 00 00 00 00 00 00 00	exit
    """
    assert disassemble(assemble(text)).splitlines() == [
        "r6 = 0 ll", "r3 = *(u32 *)(r6 + 0)", "if r1 > r3 goto +1", "r0 = 2", "exit"]


def test_labels() -> None:
    program = assemble("""
        start:
            r0 = 0
        loop: r0 += 1
            if r0 < 10 goto loop
            if w0 == 0 goto start
            call helper_like
            gotol done
            goto done
        helper_like:
            r0 = 1
        done:
            exit
    """)
    assert disassemble(program).splitlines() == [
        "r0 = 0", "r0 += 1", "if r0 < 10 goto -2", "if w0 == 0 goto -4", "call pc+2", "gotol +2",
        "goto +1", "r0 = 1", "exit"]


def test_lenient_spelling() -> None:
    assert assemble("r1=*(u32*)(r2+4)") == assemble("r1 = *(u32 *)(r2 + 4)")
    assert assemble("w1 = *(u32 *)(r2 + 4)") == assemble("r1 = *(u32 *)(r2 + 4)")  # alu32 view
    assert assemble("*(u32 *)(r1 + 0) = w2") == assemble("*(u32 *)(r1 + 0) = r2")
    assert assemble("lock *(u32 *)(r10 - 8) += w1") == assemble("lock *(u32 *)(r10 - 8) += r1")
    assert assemble("r1 = xchg32_32(r10 - 8, r1)") == assemble("w1 = xchg32_32(r10 - 8, w1)")
    assert assemble("r1 = *(u64 *)(r2)") == assemble("r1 = *(u64 *)(r2 + 0)")
    assert assemble("r1 = 0xff\nr1 = 4294967295\nr1 = -0x1") == (
        Instruction(0xB7, 1, 0, 0, 255), Instruction(0xB7, 1, 0, 0, -1), Instruction(0xB7, 1, 0, 0, -1))
    assert assemble("r1 = 18446744073709551615 ll") == assemble("r1 = -1 ll")
    assert assemble("goto 3") == assemble("goto +3")


@pytest.mark.parametrize(("text", "line", "message"), [
    ("r0 = 1\nfoo r1\nexit", 2, "cannot parse instruction 'foo r1'"),
    ("r11 = 1", 1, "invalid register 11"),
    ("r1 = 4294967296", 1, "immediate 4294967296 out of range"),
    ("r1 = -2147483649", 1, "immediate -2147483649 out of range"),
    ("r1 = *(u8 *)(r2 + 32768)", 1, "offset 32768 out of range"),
    ("r1 = *(u8 *)(r2 - 32768)\ngoto +32768", 2, "jump offset 32768 out of range"),
    ("r1 = be16 r2", 1, "operands for dst must be the same"),
    ("w1 += r2", 1, "cannot parse"),
    ("r1 = 1 ll\n\n<unknown>", 3, "cannot parse"),
    ("goto nowhere", 1, "undefined label 'nowhere'"),
    ("a:\nexit\na:\nexit", 3, "label 'a' defined twice"),
    ("r1 = 18446744073709551616 ll", 1, "64-bit immediate"),
    ("call kfunc 1, 40000", 1, "kfunc offset 40000 out of range"),
])
def test_errors_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(AsmError) as info:
        assemble(text)
    assert info.value.line == line
    assert message in str(info.value)
    assert format_error(info.value).startswith(f"<asm>:{line}: error: ")


def test_label_out_of_reach_of_goto() -> None:
    far = "goto end\n" + "r0 = 0\n" * 40000 + "end: exit\n"
    with pytest.raises(AsmError, match="out of reach") as info:
        assemble(far)
    assert info.value.line == 1
    assert assemble(far.replace("goto end", "gotol end"))[0].imm == 40000


# Fragments of the syntax, glued at random, reach deep into the parser.
TOKENS = ["r1", "w2", "r10", "r11", "=", "+=", "s>>=", "s/=", "*", "(", ")", "[", "]", "u32", "s8",
          "skb", "ll", "lock", "if", "goto", "gotol", "call", "callx", "pc", "kfunc", "exit", "-",
          "+", ",", "0", "7", "-8", "0x10", "99999999999", "4294967296", "be16", "bswap64",
          "atomic_fetch_add", "xchg_64", "cmpxchg32_32", "ld_pseudo", "may_goto", "label", ":",
          ";", "#", "<x>", "\t", "\n", "addr_space_cast", "(s16)", "==", "s<="]


@FUZZ
@given(st.text(max_size=80))
def test_random_text_assembles_or_raises_asm_error(text: str) -> None:
    try:
        program = assemble(text)
    except AsmError as exc:
        assert exc.line is not None and exc.line >= 1
    else:
        assert assemble(disassemble(program)) == program


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=14).map(" ".join))
def test_token_soup_assembles_or_raises_asm_error(text: str) -> None:
    try:
        program = assemble(text)
    except AsmError:
        return
    assert assemble(disassemble(program)) == program


@FUZZ
@given(data=st.data())
def test_mangled_instructions_assemble_or_raise(data: st.DataObject,
                                                valid_insn: st.SearchStrategy[Instruction]) -> None:
    text = format_insn(data.draw(valid_insn))
    pos = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.sampled_from(["", "1", "9", "-", " ", "x", "(", "r", "0x", "99999"]))
    cut = data.draw(st.integers(0, 2))
    mangled = text[:pos] + junk + text[pos + cut:]
    try:
        program = assemble(mangled)
    except AsmError:
        return
    assert assemble(disassemble(program)) == program


@pytest.mark.llvm
def test_pasted_llvm_objdump_listing_assembles(clang_objects, exec_sections) -> None:  # type: ignore[no-untyped-def]
    """A listing pasted from llvm-objdump assembles to the object's instructions, except that
    LLVM prints a bpf-to-bpf call like a helper call (``call -1``)."""
    checked = 0
    for obj in clang_objects:
        if obj.objdump is None or obj.major >= 18:
            continue
        out = subprocess.run([*obj.objdump, str(obj.path)], capture_output=True, text=True, check=True).stdout
        for chunk in out.split("Disassembly of section ")[1:]:
            name, _, body = chunk.partition(":\n")
            (section,) = [s for s in exec_sections(obj.path) if s.name == name]
            expected = decode(section.data)
            if any(i.form and i.form.name.startswith("STX_ATOMIC_W_") and i.imm for i in expected):
                continue  # llvm-objdump 14's default view mangles these (see test_syntax)
            got = assemble(body)
            assert len(got) == len(expected), (obj.name, name)
            for ours, theirs in zip(expected, got, strict=True):
                if ours.is_subprog_call:
                    assert theirs == Instruction(0x85, 0, 0, 0, ours.imm)
                else:
                    assert theirs == ours, (obj.name, format_insn(ours))
            checked += 1
    if checked == 0:
        pytest.skip("no llvm-objdump 14 matching the installed clang")


@pytest.mark.parametrize(("text", "log"), [
    ("r2 = *(u32 *)(r1 + 4)", "(61) r2 = *(u32 *)(r1 +4)"),
    ("if r3 > r2 goto +44", "(2d) if r3 > r2 goto pc+44"),
    ("if r0 == 0 goto +3", "(15) if r0 == 0x0 goto pc+3"),
    ("if w1 s< -1 goto -2", "(c6) if w1 s< 0xffffffff goto pc-2"),
    ("lock *(u64 *)(r0 + 0) += r1", "(db) lock *(u64 *)(r0 +0) += r1"),
    ("w1 = atomic_fetch_or((u32 *)(r10 - 8), w1)", "(c3) r1 = atomic_fetch_or((u32 *)(r10 -8), r1)"),
    ("r0 = cmpxchg_64(r10 - 8, r0, r3)", "(db) r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r3)"),
    ("w1 = (s8)w2", "(bc) w1 = (s8)w2"),
    ("r1 = be16 r1", "(dc) r1 = be16 r1"),
    ("r0 = *(u16 *)skb[r1 + 4]", "(48) r0 = *(u16 *)skb[r1 + 4]"),
    ("call 1", "(85) call unknown#1"),
    ("r1 = 255 ll", "(18) r1 = 0xff"),
])
def test_the_kernel_log_dialect_comes_from_the_same_table(text: str, log: str) -> None:
    from bpfbuild.isa import format_log_insn

    assert format_log_insn(assemble(text)[0]) == log
