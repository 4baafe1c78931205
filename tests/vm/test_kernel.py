"""The emulator against the kernel: the same bytecode run by BPF_PROG_TEST_RUN and by the VM.

Needs root (the ``kernel`` fixture skips otherwise).  Programs are written as text and
assembled with bpfbuild.isa; maps are created in the kernel with raw bpf() and their fds
patched into the ``ld_imm64`` instructions, while the emulator gets the same maps by index.
"""

from __future__ import annotations

import os
import random
import struct
from dataclasses import replace

import pytest

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble, encode
from bpfbuild.isa.fields import PseudoLoad
from bpfbuild.isa.instruction import Instruction
from bpfbuild.vm import Machine, Session, SkbContext, XdpContext

from .conftest import PROG_SCHED_CLS, PROG_SOCKET_FILTER, PROG_XDP, Kernel

pytestmark = pytest.mark.kernel

M64 = (1 << 64) - 1
STACK_SLOTS = range(24, 72, 8)     # fp-24 .. fp-64: scratch the generated programs may use
PACKET = 160                       # r0..r9 and the six scratch slots are written back here


# --- generated ALU / JMP / memory programs -------------------------------------------------

def _imm(rng: random.Random) -> int:
    return rng.choice([0, 1, -1, 2, 7, 31, 32, 63, 64, 0x7FFFFFFF, -0x80000000, 0xFFFF, 0x8000,
                       rng.randrange(-(1 << 31), 1 << 31), rng.randrange(-300, 300)])


def _value(rng: random.Random) -> int:
    return rng.choice([0, 1, M64, 1 << 63, (1 << 63) - 1, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF,
                       rng.getrandbits(64), rng.getrandbits(32), rng.randrange(0, 256)])


def _mem_operand(rng: random.Random, size: int) -> str:
    slot = rng.choice(STACK_SLOTS)
    sub = rng.randrange(0, 8 // size) * size
    return f"r10 - {slot - sub}"


def _body_insn(rng: random.Random, remaining: int) -> str:
    d, s = rng.randrange(10), rng.randrange(10)
    kind = rng.randrange(16)
    ops = ["+", "-", "*", "/", "%", "|", "&", "^", "<<", ">>", "s>>", "s/", "s%"]
    if kind <= 4:   # ALU64 / ALU32, register or immediate
        op = rng.choice(ops)
        wide = rng.random() < 0.6
        r = "r" if wide else "w"
        if rng.random() < 0.5:
            return f"{r}{d} {op}= {r}{s}"
        imm = _imm(rng)
        if op in ("/", "%", "s/", "s%") and imm == 0:
            imm = 3
        if op in ("<<", ">>", "s>>"):
            imm = rng.randrange(64 if wide else 32)
        return f"{r}{d} {op}= {imm}"
    if kind == 5:
        return rng.choice([f"r{d} = -r{d}", f"w{d} = -w{d}", f"r{d} = r{s}", f"w{d} = w{s}",
                           f"r{d} = {_imm(rng)}", f"w{d} = {_imm(rng)}"])
    if kind == 6:
        return rng.choice([f"r{d} = (s8)r{s}", f"r{d} = (s16)r{s}", f"r{d} = (s32)r{s}",
                           f"w{d} = (s8)w{s}", f"w{d} = (s16)w{s}"])
    if kind == 7:
        return f"r{d} = {rng.choice(['le', 'be', 'bswap'])}{rng.choice([16, 32, 64])} r{d}"
    if kind == 8:   # stores
        size = rng.choice([1, 2, 4, 8])
        addr = _mem_operand(rng, size)
        if rng.random() < 0.5:
            return f"*(u{8 * size} *)({addr}) = r{s}"
        return f"*(u{8 * size} *)({addr}) = {_imm(rng)}"
    if kind == 9:   # loads, zero- or sign-extending
        size = rng.choice([1, 2, 4, 8])
        addr = _mem_operand(rng, size)
        if size < 8 and rng.random() < 0.4:
            return f"r{d} = *(s{8 * size} *)({addr})"
        return f"r{d} = *(u{8 * size} *)({addr})"
    if kind == 10:  # atomics
        wide = rng.random() < 0.5
        addr = _mem_operand(rng, 8 if wide else 4)
        ty, r = ("u64", "r") if wide else ("u32", "w")
        op = rng.choice(["add", "or", "and", "xor"])
        sym = {"add": "+", "or": "|", "and": "&", "xor": "^"}[op]
        return rng.choice([
            f"lock *({ty} *)({addr}) {sym}= {r}{s}",
            f"{r}{s} = atomic_fetch_{op}(({ty} *)({addr}), {r}{s})",
            f"{r}{s} = {'xchg_64' if wide else 'xchg32_32'}({addr}, {r}{s})",
            f"{r}0 = {'cmpxchg_64' if wide else 'cmpxchg32_32'}({addr}, {r}0, {r}{s})",
        ])
    if kind == 11:
        return rng.choice(["goto +0", "gotol +0"])
    # conditional forward jumps, 64- and 32-bit
    cmp = rng.choice(["==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&"])
    r = "r" if rng.random() < 0.6 else "w"
    off = rng.randrange(0, min(remaining, 5) + 1)
    right = f"{r}{s}" if rng.random() < 0.5 else str(_imm(rng))
    return f"if {r}{d} {cmp} {right} goto +{off}"


def generated_program(seed: int, length: int = 30) -> str:
    rng = random.Random(seed)
    lines = [
        "r2 = *(u32 *)(r1 + 0)", "r3 = *(u32 *)(r1 + 4)", "r4 = r2", f"r4 += {PACKET}",
        "if r4 > r3 goto fail", "*(u64 *)(r10 - 8) = r2",
    ]
    lines += [f"*(u64 *)(r10 - {slot}) = {_imm(rng)}" for slot in STACK_SLOTS]
    lines += [f"r{i} = {_value(rng):#x} ll" for i in range(10)]
    lines += [_body_insn(rng, length - 1 - i) for i in range(length)]
    lines += ["*(u64 *)(r10 - 16) = r1", "r1 = *(u64 *)(r10 - 8)"]
    lines += [f"*(u64 *)(r1 + {8 * i}) = r{i}" for i in (0, 2, 3, 4, 5, 6, 7, 8, 9)]
    lines += ["r2 = *(u64 *)(r10 - 16)", "*(u64 *)(r1 + 8) = r2"]
    for n, slot in enumerate(STACK_SLOTS):
        lines += [f"r2 = *(u64 *)(r10 - {slot})", f"*(u64 *)(r1 + {80 + 8 * n}) = r2"]
    lines += ["exit", "fail:", "r0 = 0", "exit"]
    return "\n".join(lines)


GENERATED = 300


def test_generated_programs_match_the_kernel(kernel: Kernel) -> None:
    """r0..r9, the stack scratch and the return value of 300 random programs."""
    machine = Machine(Session())
    packet = bytes(range(PACKET))
    mismatches = []
    for seed in range(GENERATED):
        text = generated_program(seed)
        insns = assemble(text)
        fd = kernel.prog_load(PROG_XDP, encode(insns))
        got = kernel.test_run(fd, packet)
        ours = machine.run(machine.load(insns, name=f"gen{seed}", prog_type=ProgType.XDP),
                           XdpContext(packet))
        if (ours.retval32, ours.packet) != (got.retval, got.data):
            regs_k = struct.unpack_from("<10Q", got.data)
            regs_v = struct.unpack_from("<10Q", ours.packet or bytes(PACKET))
            diff = [f"r{i}: kernel {a:#x} vm {b:#x}" for i, (a, b) in enumerate(zip(regs_k, regs_v)) if a != b]
            mismatches.append(f"seed {seed}: {diff or 'stack/retval differ'}\n{text}")
        if len(mismatches) >= 3:
            break
    assert not mismatches, "\n\n".join(mismatches)


# --- helpers shared by the targeted tests ----------------------------------------------------

def with_map_fds(insns: tuple[Instruction, ...], fds: list[int]) -> bytes:
    """The kernel's version of a program: map indexes in ld_imm64 replaced by the fds."""
    out = []
    for insn in insns:
        if insn.is_ld_imm64 and insn.src in (PseudoLoad.MAP_FD, PseudoLoad.MAP_VALUE):
            insn = replace(insn, imm=fds[insn.imm])
        out.append(insn)
    return encode(out)


def both(kernel: Kernel, text: str, prog_type: int, data: bytes, maps: list[tuple[MapType, int, int, int]] = (),
         ctx_kind: type = XdpContext) -> tuple[tuple[int, bytes], tuple[int, bytes], Machine, list[int]]:
    """Run ``text`` in the kernel and in the VM; ((retval, data) kernel, (retval, data) vm)."""
    insns = assemble(text)
    session = Session()
    vm_maps = [session.new_map(f"m{i}", t, k, v, n) for i, (t, k, v, n) in enumerate(maps)]
    fds = [kernel.map_create(int(t), k, v, n) for (t, k, v, n) in maps]
    fd = kernel.prog_load(prog_type, with_map_fds(insns, fds))
    got = kernel.test_run(fd, data)
    machine = Machine(session)
    prog = machine.load(insns, prog_type=ProgType(prog_type), maps=vm_maps)
    ours = machine.run(prog, ctx_kind(data))
    # XDP's test_run returns the metadata in front of the packet
    return (got.retval, got.data), (ours.retval32, (ours.meta or b"") + (ours.packet or b"")), machine, fds


ETH_IP_UDP = bytes.fromhex(
    "ffffffffffff" "020000000001" "0800"                         # broadcast, IPv4
    "4500001c00004000" "4011" "0000" "0a000001" "0a000002"       # IPv4, checksum 0
    "04d20035" "0008" "0000"                                     # UDP 1234 -> 53
) + bytes(18)


# --- maps ------------------------------------------------------------------------------------

def _record(results: list[str]) -> str:
    """Store r0 after each step into the packet: r9 = packet pointer (checked for 8 * n bytes)."""
    return "\n".join(results)


MAP_PROLOGUE = """
r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 256
if r4 > r3 goto fail
*(u64 *)(r10 - 8) = r2
"""
MAP_EPILOGUE = "r0 = 2\nexit\nfail:\nr0 = 0\nexit"


def _step(n: int, call: str) -> str:
    """Run ``call`` (which leaves a result in r0) and store r0 at packet offset 8 * n."""
    return f"{call}\nr9 = *(u64 *)(r10 - 8)\n*(u64 *)(r9 + {8 * n}) = r0"


def _update(m: int, key: int, value: int, flags: int) -> str:
    return (f"*(u32 *)(r10 - 16) = {key}\n*(u64 *)(r10 - 24) = {value}\nr1 = map[{m}] ll\n"
            f"r2 = r10\nr2 += -16\nr3 = r10\nr3 += -24\nr4 = {flags}\ncall 2")


def _delete(m: int, key: int) -> str:
    return f"*(u32 *)(r10 - 16) = {key}\nr1 = map[{m}] ll\nr2 = r10\nr2 += -16\ncall 3"


def _lookup_value(m: int, key: int) -> str:
    return (f"*(u32 *)(r10 - 16) = {key}\nr1 = map[{m}] ll\nr2 = r10\nr2 += -16\ncall 1\n"
            "if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 += 0")


def _map_program(steps: list[str]) -> str:
    body = "\n".join(_step(n, s) for n, s in enumerate(steps))
    text = MAP_PROLOGUE + body + "\n" + MAP_EPILOGUE
    # `r1 = map[N] ll` is our shorthand here for ld_imm64 with the map pseudo source
    return "\n".join(_map_line(line) for line in text.splitlines())


def _map_line(line: str) -> str:
    if "= map[" in line:
        reg, rest = line.split(" = map[")
        index = int(rest.split("]")[0])
        return f"ld_pseudo {reg}, 1, {index}"
    return line


@pytest.mark.parametrize("map_type", [MapType.HASH, MapType.LRU_HASH, MapType.ARRAY, MapType.PERCPU_ARRAY,
                                      MapType.PERCPU_HASH])
def test_map_update_flags_and_errors_match_the_kernel(kernel: Kernel, map_type: MapType) -> None:
    steps = [
        _update(0, 1, 10, 0),          # BPF_ANY on a new key
        _update(0, 1, 11, 1),          # BPF_NOEXIST on an existing key: -EEXIST
        _update(0, 2, 20, 2),          # BPF_EXIST on a missing key: -ENOENT (arrays: 0)
        _update(0, 2, 21, 0),
        _update(0, 3, 30, 0),          # a third key in a 2-entry map: -E2BIG (LRU: evicts)
        _update(0, 1, 12, 2),          # BPF_EXIST on an existing key
        _update(0, 1, 13, 4 | 8),      # invalid flags: -EINVAL
        _lookup_value(0, 1),
        _lookup_value(0, 2),
        _delete(0, 2),
        _delete(0, 2),                 # -ENOENT (arrays: -EINVAL)
        _update(0, 7, 70, 0),          # out of range for arrays: -E2BIG
        _lookup_value(0, 7),
    ]
    (kr, kd), (vr, vd), _, _ = both(kernel, _map_program(steps), PROG_XDP, bytes(256),
                                    [(map_type, 4, 8, 2)])
    assert (vr, vd) == (kr, kd), _diff_steps(kd, vd)


def _diff_steps(kd: bytes, vd: bytes) -> str:
    rows = []
    for n in range(min(len(kd), len(vd)) // 8):
        a, = struct.unpack_from("<q", kd, 8 * n)
        b, = struct.unpack_from("<q", vd, 8 * n)
        rows.append(f"step {n}: kernel {a} vm {b}" + ("" if a == b else "   <--"))
    return "\n".join(rows)


def test_queue_and_stack_match_the_kernel(kernel: Kernel) -> None:
    def push(m: int, v: int, flags: int) -> str:
        return f"*(u64 *)(r10 - 24) = {v}\nr1 = map[{m}] ll\nr2 = r10\nr2 += -24\nr3 = {flags}\ncall 87"

    def pop(m: int, helper: int) -> str:
        return (f"*(u64 *)(r10 - 24) = -1\nr1 = map[{m}] ll\nr2 = r10\nr2 += -24\ncall {helper}\n"
                "r1 = *(u64 *)(r10 - 24)\nr0 <<= 32\nr0 |= r1")

    steps = []
    for m in (0, 1):
        steps += [push(m, 1, 0), push(m, 2, 0), push(m, 3, 0), push(m, 4, 2), push(m, 5, 1),
                  pop(m, 89), pop(m, 88), pop(m, 88), pop(m, 88), pop(m, 88)]
    (kr, kd), (vr, vd), _, _ = both(kernel, _map_program(steps), PROG_XDP, bytes(256),
                                    [(MapType.QUEUE, 0, 8, 2), (MapType.STACK, 0, 8, 2)])
    assert (vr, vd) == (kr, kd), _diff_steps(kd, vd)


def test_lpm_trie_matches_the_kernel(kernel: Kernel) -> None:
    # keys: u32 prefixlen + 4 bytes of IPv4 address; values u64
    def key(plen: int, addr: str) -> str:
        a = int.from_bytes(bytes(int(x) for x in addr.split(".")), "little")
        return f"*(u32 *)(r10 - 40) = {plen}\n*(u32 *)(r10 - 36) = {a}"

    def upd(plen: int, addr: str, value: int, flags: int = 0) -> str:
        return (key(plen, addr) + f"\n*(u64 *)(r10 - 24) = {value}\nr1 = map[0] ll\nr2 = r10\nr2 += -40\n"
                f"r3 = r10\nr3 += -24\nr4 = {flags}\ncall 2")

    def look(plen: int, addr: str) -> str:
        return (key(plen, addr) + "\nr1 = map[0] ll\nr2 = r10\nr2 += -40\ncall 1\n"
                "if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nr0 += 0")

    def dele(plen: int, addr: str) -> str:
        return key(plen, addr) + "\nr1 = map[0] ll\nr2 = r10\nr2 += -40\ncall 3"

    steps = [upd(8, "10.0.0.0", 8), upd(16, "10.1.0.0", 16), upd(24, "10.1.2.0", 24),
             upd(16, "10.1.9.9", 99, 1), upd(33, "10.0.0.0", 1), upd(32, "1.2.3.4", 32),
             look(32, "10.1.2.3"), look(32, "10.1.3.3"), look(32, "10.2.3.4"), look(32, "11.0.0.0"),
             look(20, "10.1.2.3"), dele(16, "10.1.0.0"), dele(16, "10.1.0.0"), look(32, "10.1.3.3"),
             upd(8, "192.0.0.0", 1)]
    text = _map_program(steps)
    insns = assemble(text)
    session = Session()
    vm_map = session.create_map(_LpmSpec())
    fd = kernel.map_create(int(MapType.LPM_TRIE), 8, 8, 4, 1)   # BPF_F_NO_PREALLOC
    kfd = kernel.prog_load(PROG_XDP, with_map_fds(insns, [fd]))
    got = kernel.test_run(kfd, bytes(256))
    machine = Machine(session)
    ours = machine.run(machine.load(insns, prog_type=ProgType.XDP, maps=[vm_map]), XdpContext(bytes(256)))
    assert (ours.retval32, ours.packet) == (got.retval, got.data), _diff_steps(got.data, ours.packet or b"")
    assert ours.meta == b""


class _LpmSpec:
    name, type, key_size, value_size, max_entries, flags = "lpm", MapType.LPM_TRIE, 8, 8, 4, 1
    initial, readonly, inner = None, False, None


# --- packets and helpers ---------------------------------------------------------------------

@pytest.mark.parametrize("head, meta, tail", [(0, 0, 0), (-14, 0, 0), (14, 0, 0), (-300, 0, 0),
                                              (20, 0, 0), (0, -8, 0), (0, -6, 0), (0, 4, 0),
                                              (-20, -16, 0), (0, 0, 10), (0, 0, -20), (0, 0, -60),
                                              (0, 0, 4000), (-200, -8, 3000)])
def test_xdp_adjust_helpers_match_the_kernel(kernel: Kernel, kernel_probe, head: int, meta: int, tail: int) -> None:
    for helper in ("xdp_adjust_head", "xdp_adjust_meta", "xdp_adjust_tail"):
        if not kernel_probe.helper_allowed(helper, "XDP"):
            pytest.skip(f"{kernel_probe.identity} does not offer bpf_{helper} to XDP programs (configuration)")
    text = f"""
    r6 = r1
    r1 = r6
    r2 = {head}
    call 44
    r7 = r0
    r1 = r6
    r2 = {meta}
    call 54
    r8 = r0
    r1 = r6
    r2 = {tail}
    call 65
    r9 = r0
    r2 = *(u32 *)(r6 + 0)
    r3 = *(u32 *)(r6 + 4)
    r4 = r2
    r4 += 24
    if r4 > r3 goto out
    *(u64 *)(r2 + 0) = r7
    *(u64 *)(r2 + 8) = r8
    *(u64 *)(r2 + 16) = r9
    r4 = *(u32 *)(r6 + 8)
    r3 = r2
    r3 -= r4
    *(u32 *)(r2 + 20) = r3
    out:
    r0 = 2
    exit
    """
    (kr, kd), (vr, vd), _, _ = both(kernel, text, PROG_XDP, ETH_IP_UDP)
    assert (vr, vd) == (kr, kd)


def test_skb_helpers_match_the_kernel(kernel: Kernel) -> None:
    """skb_load_bytes, skb_store_bytes, l3/l4_csum_replace and csum_diff on a TC packet."""
    text = """
    r6 = r1
    r1 = r6
    r2 = 26
    r3 = r10
    r3 += -8
    r4 = 4
    call 26
    r7 = r0
    r1 = r6
    r2 = 5000
    r3 = r10
    r3 += -16
    r4 = 4
    call 26
    r7 <<= 8
    r7 |= r0
    *(u32 *)(r10 - 24) = 0x0100000a
    r1 = r6
    r2 = 26
    r3 = r10
    r3 += -24
    r4 = 4
    r5 = 0
    call 9
    r7 <<= 8
    r7 |= r0
    r1 = r6
    r2 = 24
    r3 = *(u32 *)(r10 - 8)
    r4 = *(u32 *)(r10 - 24)
    r5 = 4
    call 10
    r7 <<= 8
    r7 |= r0
    r1 = r6
    r2 = 40
    r3 = *(u32 *)(r10 - 8)
    r4 = *(u32 *)(r10 - 24)
    r5 = 0x14
    call 11
    r7 <<= 8
    r7 |= r0
    r1 = r6
    r2 = 40
    r3 = 0x3500
    r4 = 0x3600
    r5 = 0x32
    call 11
    r7 <<= 8
    r7 |= r0
    r1 = r10
    r1 += -8
    r2 = 4
    r3 = r10
    r3 += -24
    r4 = 4
    r5 = 0
    call 28
    r8 = r0
    r1 = r6
    r2 = 24
    r3 = 0
    r4 = r8
    r5 = 0
    call 10
    r7 <<= 8
    r7 |= r0
    r1 = r6
    r2 = 25
    r3 = 0
    r4 = 0
    r5 = 2
    call 10
    r7 <<= 8
    r7 |= r0
    r1 = r6
    r2 = 1
    r3 = r10
    r3 += -24
    r4 = 4
    r5 = 8
    call 9
    r7 <<= 8
    r7 |= r0
    r0 = r7
    r0 ^= r8
    exit
    """
    insns = assemble(text)
    fd = kernel.prog_load(PROG_SCHED_CLS, encode(insns))
    got = kernel.test_run(fd, ETH_IP_UDP)
    machine = Machine(Session())
    ours = machine.run(machine.load(insns, prog_type=ProgType.SCHED_CLS), SkbContext(ETH_IP_UDP))
    assert (ours.retval32, ours.packet) == (got.retval, got.data)


def test_skb_fields_match_the_kernel(kernel: Kernel) -> None:
    """What a TC and a socket filter program read from __sk_buff on test_run's skb."""
    fields = {"len": 0, "pkt_type": 4, "mark": 8, "queue_mapping": 12, "protocol": 16, "vlan_present": 20,
              "priority": 32, "ingress_ifindex": 36, "ifindex": 40, "hash": 52}
    for prog_type, ctx_type in ((PROG_SCHED_CLS, ProgType.SCHED_CLS), (PROG_SOCKET_FILTER, ProgType.SOCKET_FILTER)):
        for name, off in fields.items():
            insns = assemble(f"r0 = *(u32 *)(r1 + {off})\nexit")
            for packet in (ETH_IP_UDP, bytes.fromhex("000000000000" "020000000001" "86dd") + bytes(60)):
                fd = kernel.prog_load(prog_type, encode(insns))
                got = kernel.test_run(fd, packet)
                machine = Machine(Session())
                ours = machine.run(machine.load(insns, prog_type=ctx_type), SkbContext(packet))
                assert ours.retval32 == got.retval, f"{ctx_type.name} {name}: kernel {got.retval} vm {ours.retval32}"


def test_ld_abs_matches_the_kernel(kernel: Kernel) -> None:
    text = """
    r6 = r1
    r0 = *(u16 *)skb[12]
    r7 = r0
    r0 = *(u8 *)skb[0]
    r7 <<= 8
    r7 |= r0
    r2 = 2
    r0 = *(u32 *)skb[r2 + 10]
    r7 <<= 32
    r7 |= r0
    r0 = r7
    exit
    """
    insns = assemble(text)
    for prog_type, ptype in ((PROG_SOCKET_FILTER, ProgType.SOCKET_FILTER), (PROG_SCHED_CLS, ProgType.SCHED_CLS)):
        fd = kernel.prog_load(prog_type, encode(insns))
        got = kernel.test_run(fd, ETH_IP_UDP)
        machine = Machine(Session())
        ours = machine.run(machine.load(insns, prog_type=ptype), SkbContext(ETH_IP_UDP))
        assert ours.retval32 == got.retval, ptype.name
    # past the end: the program returns 0 at once
    insns = assemble("r6 = r1\nr0 = *(u32 *)skb[5000]\nr0 = 7\nexit")
    fd = kernel.prog_load(PROG_SOCKET_FILTER, encode(insns))
    machine = Machine(Session())
    ours = machine.run(machine.load(insns, prog_type=ProgType.SOCKET_FILTER), SkbContext(ETH_IP_UDP))
    assert ours.retval32 == kernel.test_run(fd, ETH_IP_UDP).retval == 0


# --- bpf_trace_printk -----------------------------------------------------------------------

TRACE = "/sys/kernel/tracing/trace"


def _printk_program(fmt: bytes, args: list[int | str]) -> str:
    """Build ``fmt`` on the stack and call bpf_trace_printk; "str" args point to "DCBA",
    "ip4" / "ip6" args to address bytes on the stack."""
    data = fmt + b"\0"
    data += bytes(-len(data) % 8)
    base = 64 + len(data)
    lines = []
    for i in range(0, len(data), 8):
        lines += [f"r1 = {int.from_bytes(data[i:i + 8], 'little'):#x} ll", f"*(u64 *)(r10 - {base - i}) = r1"]
    lines += ["*(u64 *)(r10 - 16) = 0x41424344",                       # "DCBA\0..."
              "r1 = 0x0100007f ll", "*(u64 *)(r10 - 40) = r1",          # 127.0.0.1
              "r1 = 0xb80d0120 ll", "*(u64 *)(r10 - 32) = r1",          # 2001:db8::1
              "r1 = 0x0100000000000000 ll", "*(u64 *)(r10 - 24) = r1",
              "r1 = r10", f"r1 += -{base}", f"r2 = {len(data)}"]
    where = {"str": -16, "ip4": -40, "ip6": -32}
    for n, a in enumerate(args):
        if isinstance(a, str):
            lines += [f"r{3 + n} = r10", f"r{3 + n} += {where[a]}"]
        else:
            lines.append(f"r{3 + n} = {a & M64:#x} ll")
    lines += ["call 6", "exit"]
    return "\n".join(lines)


PRINTK_CASES: list[tuple[bytes, list[int | str]]] = [
    (b"plain text", []), (b"with newline\n", []), (b"%d %i %u", [-5, 7, -1]), (b"%x %X", [0xBEEF, 0xBEEF]),
    (b"%ld %lu %lld %llu", [-1, -1, 1 << 40, -2]), (b"%lx %llx %lX", [-1, 1 << 35, 0xABC]),
    (b"[%5d] [%-5d] [%05d] [%+d] [% d]", [42, 42, -42, 42, 42]), (b"[%+u] [% x] [%-08x]", [7, 7, 0xAB]),
    (b"%s|%10s|%-6s|", ["str", "str", "str"]), (b"%c%c%3c", [0x41, 0x42, 0x43]), (b"%%d %d%%", [9]),
    (b"%pI4 %pi4", ["ip4", "ip4"]), (b"%pI6 | %pi6", ["ip6", "ip6"]), (b"%px %px", [0, 0xFFFF888812345678]),
    (b"%pks", ["str"]), (b"%pus.", ["str"]), (b"%pI6c!", ["ip6"]), (b"%d%d%d", [1, 2, 3]),
    # refused formats: -EINVAL
    (b"%d %d %d %d", [1, 2, 3]), (b"%.3d", [1]), (b"%hd", [1]), (b"%#x", [1]), (b"%q", [1]), (b"%sx", ["str"]),
    (b"%pd", [1]), (b"%pI5", ["ip4"]), (b"%", []), (b"%lu%", [1]), (b"\x01", []), (b"caf\xc3\xa9", []),
    (b"%lld %lli %llX", [1, 2, 3]), (b"tab\there", []), (b"%10.2s", ["str"]), (b"%z", [0]),
]


def _trace_lines(marker: str) -> list[str]:
    with open(TRACE) as fh:
        text = fh.read()
    return [line.split("bpf_trace_printk: ", 1)[1] for line in text.splitlines()
            if "bpf_trace_printk: " in line and marker in line]


def test_trace_printk_matches_the_kernel(kernel: Kernel) -> None:
    """Return values (length or -EINVAL) and the text in the kernel's trace buffer."""
    import os
    if not os.access(TRACE, os.R_OK):
        pytest.skip(f"{TRACE} is not readable (tracefs not mounted)")
    marker = f"M{random.randrange(1 << 30):x}"
    expected_text = []
    for fmt, args in PRINTK_CASES:
        full = marker.encode() + b" " + fmt
        insns = assemble(_printk_program(full, args))
        fd = kernel.prog_load(PROG_SOCKET_FILTER, encode(insns))
        got = kernel.test_run(fd, ETH_IP_UDP)
        machine = Machine(Session())
        ours = machine.run(machine.load(insns, prog_type=ProgType.SOCKET_FILTER), SkbContext(ETH_IP_UDP))
        assert ours.retval32 == got.retval, f"{fmt!r}: kernel returned {got.retval:#x}, vm {ours.retval32:#x}"
        if ours.printk:
            expected_text.append(ours.printk[0].split("\n")[0])
    lines = _trace_lines(marker)
    assert lines == expected_text


# --- LRU maps: the kernel's eviction, element for element ---------------------------------------

def _possible_cpus() -> int:
    with open("/sys/devices/system/cpu/possible") as fh:
        text = fh.read().strip()
    return sum(int(b) - int(a) + 1 if "-" in part else 1
               for part in text.split(",") for a, _, b in [part.partition("-")])


@pytest.mark.parametrize("map_type, flags", [(MapType.LRU_HASH, 0), (MapType.LRU_HASH, 2),
                                             (MapType.LRU_PERCPU_HASH, 0)])
def test_lru_eviction_matches_the_kernel(kernel: Kernel, map_type: MapType, flags: int) -> None:
    # The kernel's LRU keeps free lists per CPU: every test run must land on the CPU the emulator
    # models (0), or a migration between runs (other test processes run beside this one) moves
    # which element is evicted.
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    try:
        _lru_eviction(kernel, map_type, flags)
    finally:
        os.sched_setaffinity(0, before)


def _lru_eviction(kernel: Kernel, map_type: MapType, flags: int) -> None:
    cpus = _possible_cpus()
    for seed in range(12):
        rng = random.Random(seed)
        steps = []
        for _ in range(60):
            key = rng.randrange(20)
            op = rng.random()
            if op < 0.55:
                steps.append(_update(0, key, key + 100, rng.choice([0, 0, 0, 1, 2])))
            elif op < 0.9:
                steps.append(_lookup_value(0, key))
            else:
                steps.append(_delete(0, key))
        text = _map_program(steps[:30])
        text2 = _map_program(steps[30:])
        session = Session(nr_cpus=cpus)
        vm_map = session.create_map(_Spec("lru", map_type, 4, 8, 8, flags))
        fd = kernel.map_create(int(map_type), 4, 8, 8, flags)
        machine = Machine(session)
        for part in (text, text2):
            insns = assemble(part)
            got = kernel.test_run(kernel.prog_load(PROG_XDP, with_map_fds(insns, [fd])), bytes(256))
            ours = machine.run(machine.load(insns, prog_type=ProgType.XDP, maps=[vm_map]), XdpContext(bytes(256)))
            assert ours.packet == got.data, f"seed {seed}\n" + _diff_steps(got.data, ours.packet or b"")
        value_size = 8 * cpus if map_type == MapType.LRU_PERCPU_HASH else 8
        kernel_keys = {i for i in range(20) if kernel.map_lookup(fd, (i).to_bytes(4, "little"), value_size) is not None}
        assert {int.from_bytes(key, "little") for key in vm_map} == kernel_keys, f"seed {seed}"


class _Spec:
    def __init__(self, name: str, type: MapType, key_size: int, value_size: int, max_entries: int,
                 flags: int = 0) -> None:
        self.name, self.type, self.key_size, self.value_size = name, type, key_size, value_size
        self.max_entries, self.flags, self.initial, self.readonly, self.inner = max_entries, flags, None, False, None


def test_tail_call_limit_matches_the_kernel(kernel: Kernel) -> None:
    """A program tail-calling itself: how many times it runs, in both."""
    text = """
        r6 = r1
        ld_pseudo r1, 2, 0
        r2 = 1
        lock *(u64 *)(r1 + 0) += r2
        r1 = r6
        ld_pseudo r2, 1, 1
        r3 = 0
        call 12
        r0 = 2
        exit
    """
    insns = assemble(text)
    counter_fd = kernel.map_create(int(MapType.ARRAY), 4, 8, 1)
    progs_fd = kernel.map_create(int(MapType.PROG_ARRAY), 4, 4, 1)
    fd = kernel.prog_load(PROG_XDP, with_map_fds(insns, [counter_fd, progs_fd]))
    assert kernel.map_update(progs_fd, bytes(4), fd.to_bytes(4, "little")) == 0
    got = kernel.test_run(fd, bytes(64))
    kernel_count = int.from_bytes(kernel.map_lookup(counter_fd, bytes(4), 8) or b"", "little")

    session = Session()
    counter = session.new_map("count", MapType.ARRAY, 4, 8, 1)
    progs = session.new_map("progs", MapType.PROG_ARRAY, 4, 4, 1)
    machine = Machine(session)
    prog = machine.load(insns, prog_type=ProgType.XDP, maps=[counter, progs])
    progs.update(0, prog)
    ours = machine.run(prog, XdpContext(bytes(64)))
    assert (ours.retval32, int.from_bytes(counter.lookup(0), "little")) == (got.retval, kernel_count)
