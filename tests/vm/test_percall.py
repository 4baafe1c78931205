"""Per-call setup kept between runs (Machine.run, prepare, run_bytecode) gives what a fresh
setup gives; frameless functions count their depth; dead code may hold invalid forms."""

from __future__ import annotations

import struct

import pytest

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble, encode
from bpfbuild.vm import Machine, Session, VMError, XdpContext, run_bytecode
from bpfbuild.vm.compiler import compile_program, decode_program

from .conftest import PROG_XDP, Kernel

BACKENDS = ["python", "c"]

# r0 = 1; if r0 == 1 goto +1; <insn 2>; exit  -- insn 2 is dead
DEAD = encode(assemble("r0 = 1\nif r0 == 1 goto +1\nr0 = 5\nexit"))


def _patched(code: bytes, pc: int, fmt: str, offset: int, value: int) -> bytes:
    out = bytearray(code)
    struct.pack_into(fmt, out, 8 * pc + offset, value)
    return bytes(out)


#: a known opcode whose other fields make no valid form, as the kernel accepts in dead code
INVALID_FORMS = {
    "reserved off": _patched(DEAD, 2, "<h", 2, 7),           # mov64 imm with off = 7
    "register r12": _patched(DEAD, 2, "<B", 1, 0x0C),         # mov64 r12 = 5
    "reserved src": _patched(DEAD, 2, "<B", 1, 0x30),         # mov64 imm with src = r3
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("what", sorted(INVALID_FORMS))
def test_dead_code_with_an_invalid_form_runs(what: str, backend: str) -> None:
    code = INVALID_FORMS[what]
    assert run_bytecode(code, backend=backend) == 1
    m = Machine(Session(), backend=backend)
    assert m.run(m.load(code, name="dead")).retval == 1
    live = _patched(code, 0, "<i", 4, 0)   # r0 = 0: the branch falls through to the bad insn
    with pytest.raises(VMError, match=r"insn 2.*invalid instruction"):
        run_bytecode(live, backend=backend)


def test_what_the_kernel_refuses_anywhere_is_still_refused() -> None:
    from bpfbuild.errors import DecodeError

    with pytest.raises(DecodeError, match="unknown opcode"):
        decode_program(_patched(DEAD, 2, "<B", 0, 0xFF))
    wide = encode(assemble("r0 = 1\nif r0 == 1 goto +2\nr1 = 7 ll\nexit"))
    with pytest.raises(DecodeError) as info:
        decode_program(_patched(wide, 3, "<B", 0, 0x07))   # ld_imm64's second slot not zero
    assert info.value.pc == 3
    with pytest.raises(VMError, match="program bad"):
        Machine().load(_patched(DEAD, 2, "<B", 0, 0xFF), name="bad")


def test_an_invalid_form_shows_in_the_translation_as_a_fault() -> None:
    compiled = compile_program(decode_program(INVALID_FORMS["reserved off"]))
    assert "invalid instruction: " in compiled.source and "off must be 0, not 7" in compiled.source


def test_the_kernel_accepts_and_runs_the_same_dead_code(kernel: Kernel) -> None:
    for what, code in INVALID_FORMS.items():
        xdp = _patched(code, 0, "<i", 4, 2)                          # r0 = XDP_PASS
        xdp = _patched(xdp, 1, "<i", 4, 2)                           # if r0 == 2 goto +1
        got = kernel.test_run(kernel.prog_load(PROG_XDP, xdp), bytes(64))
        m = Machine(Session())
        ours = m.run(m.load(xdp, name="dead", prog_type=ProgType.XDP), XdpContext(bytes(64)))
        assert ours.retval == got.retval == 2, what


# --- run_bytecode: one setup per program, put back before each call ---------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_run_bytecode_calls_see_a_fresh_session(backend: str) -> None:
    # ktime advances and prandom steps on every call: each run_bytecode call starts again
    code = encode(assemble("call 5\nr6 = r0\ncall 7\nr0 += r6\nexit"))
    first = run_bytecode(code, backend=backend)
    assert run_bytecode(code, backend=backend) == first
    fresh = Machine(Session())
    assert fresh.run(fresh.load(code)).retval == first


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_bytecode_input_memory_is_fresh_each_call(backend: str) -> None:
    code = encode(assemble("r0 = *(u8 *)(r1 + 0)\nr2 = 9\n*(u8 *)(r1 + 0) = r2\nexit"))
    assert [run_bytecode(code, b"\x05", backend=backend) for _ in range(3)] == [5, 5, 5]
    ptr = encode(assemble("r0 = r1\nexit"))
    assert run_bytecode(ptr, b"x", backend=backend) == run_bytecode(ptr, b"y", backend=backend) != 0


def test_run_bytecode_budget_and_faults_per_call() -> None:
    code = encode(assemble("r0 = 0\nloop:\nr0 += 1\nif r0 < 50 goto loop\nexit"))
    with pytest.raises(VMError, match="budget of 20"):
        run_bytecode(code, budget=20)
    assert run_bytecode(code) == 50
    with pytest.raises(VMError, match="input memory is 3 bytes"):
        run_bytecode(encode(assemble("r0 = *(u64 *)(r1 + 0)\nexit")), b"abc")
    assert run_bytecode(encode(assemble("r0 = *(u8 *)(r1 + 2)\nexit")), b"abc") == ord("c")


# --- Machine.run on an input it has seen: the kept setup -------------------------------------

class _Spec:
    def __init__(self, name: str, type: MapType, key_size: int, value_size: int, max_entries: int) -> None:
        self.name, self.type, self.key_size, self.value_size = name, type, key_size, value_size
        self.max_entries, self.flags, self.initial, self.readonly, self.inner = max_entries, 0, None, False, None


@pytest.mark.parametrize("backend", BACKENDS)
def test_repeated_runs_on_one_input_see_it_unchanged(backend: str) -> None:
    session = Session()
    counter = session.create_map(_Spec("counter", MapType.ARRAY, 4, 8, 1))
    # bump the counter, shrink the packet by 4 bytes at the head, write its first byte
    prog_text = """
    r6 = r1
    r1 = 0
    *(u32 *)(r10 - 4) = r1
    r2 = r10
    r2 += -4
    ld_pseudo r1, 1, 0
    call 1
    if r0 == 0 goto out
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1
    r1 = r6
    r2 = 4
    call 44
    r2 = *(u32 *)(r6 + 0)
    r3 = *(u32 *)(r6 + 4)
    r4 = r2
    r4 += 1
    if r4 > r3 goto out
    r5 = *(u8 *)(r2 + 0)
    r5 += 1
    *(u8 *)(r2 + 0) = r5
    out:
    r0 = 2
    exit
    """
    m = Machine(session, backend=backend)
    prog = m.load(assemble(prog_text), prog_type=ProgType.XDP, maps=[counter])
    ctx = XdpContext(bytes(range(20)))
    results = [m.run(prog, ctx) for _ in range(3)]
    assert {r.packet for r in results} == {bytes([5]) + bytes(range(5, 20))}
    assert results[0] == results[1] == results[2]
    assert counter.lookup(b"\0\0\0\0") == (3).to_bytes(8, "little")
    fresh = Machine(Session(), backend=backend)
    other = fresh.load(assemble(prog_text), prog_type=ProgType.XDP,
                       maps=[fresh.session.create_map(_Spec("counter", MapType.ARRAY, 4, 8, 1))])
    assert fresh.run(other, ctx) == results[0]


def test_prepared_calls_repeat_the_first_result() -> None:
    m = Machine(Session())
    prog = m.load(assemble("r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 1\n"
                           "if r4 > r3 goto +3\nr5 = *(u8 *)(r2 + 0)\nr5 += 1\n*(u8 *)(r2 + 0) = r5\n"
                           "r0 = *(u8 *)(r2 + 0)\nexit"), prog_type=ProgType.XDP)
    run = m.prepare(prog, XdpContext(bytes([7]) * 16))
    assert [run() for _ in range(4)] == [8, 8, 8, 8]
    assert run.result().packet == bytes([8]) + bytes([7]) * 15


# --- frameless functions (their frame lives in locals) still count call depth -----------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_a_recursion_without_stack_use_is_too_deep(backend: str) -> None:
    m = Machine(Session(), backend=backend)
    prog = m.load(assemble("call f\nexit\nf:\nr0 += 1\ncall f\nexit"))
    with pytest.raises(VMError, match="too deep"):
        m.run(prog)
    assert m.runtime.depth == 0
    nested = m.load(assemble("call f\nr0 += 1\nexit\nf:\nr1 = 40\ncall g\nexit\ng:\n"
                             "*(u64 *)(r10 - 8) = r1\nr0 = *(u64 *)(r10 - 8)\nr0 += 1\nexit"), name="nested")
    assert m.run(nested).retval == 42
    assert m.runtime.depth == 0


def test_both_backends_report_the_caller_registers_of_a_call_too_deep() -> None:
    texts = []
    for backend in BACKENDS:
        m = Machine(Session(), backend=backend)
        with pytest.raises(VMError, match="too deep") as info:
            m.run(m.load(assemble("call f\nexit\nf:\nr0 += 1\ncall f\nexit")))
        texts.append(str(info.value))
    assert "r0=0x1 " in texts[0] and texts[0] == texts[1]
