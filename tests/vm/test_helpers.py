"""Helpers as a program sees them: return values, errors, effects on memory and maps."""

from __future__ import annotations

import struct

import pytest

from bpfbuild.abi.maptypes import MapType
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble
from bpfbuild.vm import KprobeContext, Machine, NotEmulated, RunResult, Session, SkbContext, VMError, XdpContext
from bpfbuild.vm.context import Context
from bpfbuild.vm.helpers import emulated_helpers
from bpfbuild.vm.maps import Map

M64 = (1 << 64) - 1


def run(text: str, *, session: Session | None = None, maps: list[Map] | None = None,
        prog_type: ProgType | None = None, ctx: Context | None = None) -> RunResult:
    m = Machine(session or Session())
    prog = m.load(assemble(text), prog_type=prog_type, maps=maps or [])
    return m.run(prog, ctx)


def test_the_helpers_the_brief_asks_for_are_emulated() -> None:
    wanted = {
        "map_lookup_elem", "map_update_elem", "map_delete_elem", "map_push_elem", "map_pop_elem",
        "map_peek_elem", "trace_printk", "trace_vprintk", "ktime_get_ns", "ktime_get_boot_ns", "jiffies64",
        "get_prandom_u32", "get_smp_processor_id", "get_numa_node_id", "get_current_pid_tgid",
        "get_current_uid_gid", "get_current_comm", "probe_read", "probe_read_kernel", "probe_read_user",
        "probe_read_str", "probe_read_kernel_str", "probe_read_user_str", "ringbuf_output",
        "ringbuf_reserve", "ringbuf_submit", "ringbuf_discard", "ringbuf_query", "perf_event_output",
        "tail_call", "loop", "redirect", "redirect_map", "xdp_adjust_head", "xdp_adjust_tail",
        "xdp_adjust_meta", "skb_load_bytes", "skb_store_bytes", "l3_csum_replace", "l4_csum_replace",
        "csum_diff", "spin_lock", "spin_unlock", "snprintf",
    }
    assert {"bpf_" + n for n in wanted} <= set(emulated_helpers())


def test_task_identity_comes_from_the_session() -> None:
    session = Session(pid=11, tgid=22, uid=33, gid=44, comm="worker")
    r = run("call 14\nr6 = r0\ncall 15\nr0 ^= r6\nexit", session=session)
    assert r.retval == ((22 << 32) | 11) ^ ((44 << 32) | 33)
    r = run("""
        r1 = r10
        r1 += -16
        r2 = 16
        call 16
        r6 = r0
        r0 = *(u64 *)(r10 - 16)
        r1 = *(u64 *)(r10 - 8)
        r0 ^= r1
        r0 ^= r6
        exit""", session=session)
    comm = b"worker".ljust(16, b"\0")
    assert r.retval == struct.unpack("<Q", comm[:8])[0] ^ struct.unpack("<Q", comm[8:])[0]


def test_get_current_comm_truncates_and_pads() -> None:
    session = Session(comm="a-name-longer-than-sixteen")
    r = run("""
        *(u64 *)(r10 - 8) = -1
        r1 = r10
        r1 += -8
        r2 = 6
        call 16
        r0 = *(u64 *)(r10 - 8)
        exit""", session=session)
    assert r.retval.to_bytes(8, "little") == b"a-nam\0\xff\xff"   # size bytes written, NUL-padded


def test_clock_advances_and_boot_time_adds_the_offset() -> None:
    session = Session(time_ns=5_000, time_step_ns=10, boot_offset_ns=1_000_000)
    r = run("call 5\nr6 = r0\ncall 5\nr0 -= r6\nexit", session=session)
    assert r.retval == 10
    assert run("call 125\nexit", session=session).retval == 5_020 + 1_000_000


def test_jiffies_start_at_initial_jiffies() -> None:
    session = Session(time_ns=2_000_000_000, hz=250)
    assert run("call 118\nexit", session=session).retval == (1 << 32) - 300 * 250 + 500


def test_prandom_is_seeded() -> None:
    def sample(seed: int) -> int:
        return run("call 7\nr6 = r0\ncall 7\nr0 <<= 32\nr0 |= r6\nexit", session=Session(seed=seed)).retval
    assert sample(1) == sample(1)
    assert sample(1) != sample(2)


def test_cpu_and_numa_node() -> None:
    r = run("call 8\nr6 = r0\ncall 42\nr0 <<= 8\nr0 |= r6\nexit", session=Session(nr_cpus=4, cpu=3, numa_node=1))
    assert r.retval == (1 << 8) | 3


PROBE = """
    *(u64 *)(r10 - 8) = -1
    r1 = r10
    r1 += -8
    r2 = {size}
    r3 = {addr:#x} ll
    call {helper}
    r1 = *(u64 *)(r10 - 8)
    r1 <<= 8
    r1 >>= 8
    r0 <<= 56
    r0 |= r1
    exit
"""


def test_probe_read_kernel_reads_the_fake_kernel_memory() -> None:
    session = Session(kernel_memory={0xFFFF888000001000: b"ABCDEFGH"})
    r = run(PROBE.format(size=4, addr=0xFFFF888000001002, helper=113), session=session)
    assert r.retval == int.from_bytes(b"CDEF\xff\xff\xff", "little")


def test_probe_read_kernel_failure_zeroes_the_destination() -> None:
    r = run(PROBE.format(size=7, addr=0xFFFF888000002000, helper=113))
    assert r.retval == ((-14 << 56) & M64)     # -EFAULT, and the 7 bytes were zeroed


def test_probe_read_user_uses_user_memory_and_str_counts_the_nul() -> None:
    session = Session(user_memory={0x7F0000001000: b"hi\0xyz"})
    r = run(PROBE.format(size=7, addr=0x7F0000001000, helper=114), session=session)
    assert r.retval == (3 << 56) | int.from_bytes(b"hi\0\xff\xff\xff\xff", "little")   # no padding
    # the compat helper picks user memory for a user address
    r = run(PROBE.format(size=3, addr=0x7F0000001000, helper=4), session=session)
    assert r.retval & 0xFFFFFF == int.from_bytes(b"hi\0", "little")


def test_probe_read_kernel_str_truncates_to_size() -> None:
    session = Session(kernel_memory={0xFFFF888000001000: b"longer string\0"})
    r = run(PROBE.format(size=5, addr=0xFFFF888000001000, helper=115), session=session)
    assert r.retval == (5 << 56) | int.from_bytes(b"long\0\xff\xff", "little")


def test_probe_read_of_program_memory() -> None:
    r = run("""
        *(u64 *)(r10 - 16) = 0x1234
        r1 = r10
        r1 += -8
        r2 = 8
        r3 = r10
        r3 += -16
        call 113
        r0 = *(u64 *)(r10 - 8)
        exit""")
    assert r.retval == 0x1234


RING = 4096


def _ring_session() -> tuple[Session, Map]:
    session = Session()
    return session, session.new_map("rb", MapType.RINGBUF, 0, 0, RING)


def test_ringbuf_reserve_submit_and_discard() -> None:
    session, rb = _ring_session()
    r = run("""
        ld_pseudo r1, 1, 0
        r2 = 8
        r3 = 0
        call 131
        if r0 == 0 goto fail
        r1 = 0x1111
        *(u64 *)(r0 + 0) = r1
        r1 = r0
        r2 = 0
        call 132
        ld_pseudo r1, 1, 0
        r2 = 8
        r3 = 0
        call 131
        if r0 == 0 goto fail
        r1 = r0
        r2 = 0
        call 133
        *(u64 *)(r10 - 8) = 0x2222
        ld_pseudo r1, 1, 0
        r2 = r10
        r2 += -8
        r3 = 8
        r4 = 0
        call 130
        r6 = r0
        ld_pseudo r1, 1, 0
        r2 = 0
        call 134
        r0 <<= 8
        r0 |= r6
        exit
        fail:
        r0 = -1
        exit""", session=session, maps=[rb])
    assert r.retval == (48 << 8)                      # 3 records of 16 bytes pending, output returned 0
    assert rb.drain() == [(0x1111).to_bytes(8, "little"), (0x2222).to_bytes(8, "little")]
    assert rb.avail_data == 0


def test_ringbuf_full_and_bad_flags() -> None:
    session, rb = _ring_session()
    r = run("""
        ld_pseudo r1, 1, 0
        r2 = 4088
        r3 = 0
        call 131
        r6 = r0
        ld_pseudo r1, 1, 0
        r2 = 4080
        r3 = 0
        call 131
        r7 = r0
        if r7 == 0 goto +3
        r1 = r7
        r2 = 0
        call 132
        ld_pseudo r1, 1, 0
        r2 = 8
        r3 = 1
        call 131
        r8 = r0
        r0 = r6
        r0 |= r8
        r0 <<= 1
        if r7 == 0 goto +1
        r0 |= 1
        exit""", session=session, maps=[rb])
    # 4088 + header is the whole ring (refused: it would leave no gap), 4080 fits, flags != 0 -> NULL
    assert r.retval == 1


def test_a_record_reserved_first_holds_back_the_later_ones() -> None:
    _, rb = _ring_session()
    a = rb.reserve(8)                 # type: ignore[attr-defined]
    assert rb.output(b"second!!") == 0  # type: ignore[attr-defined]
    assert rb.pending() == []         # type: ignore[attr-defined]
    rb.commit(a, False)               # type: ignore[attr-defined]
    assert len(rb.drain()) == 2       # type: ignore[attr-defined]


def test_perf_event_output() -> None:
    session = Session(nr_cpus=2, cpu=1)
    events = session.new_map("ev", MapType.PERF_EVENT_ARRAY, 4, 4, 0)
    r = run("""
        r6 = r1
        *(u64 *)(r10 - 8) = 0x42
        r1 = r6
        ld_pseudo r2, 1, 0
        r3 = 0xffffffff ll
        r4 = r10
        r4 += -8
        r5 = 8
        call 25
        r7 = r0
        r1 = r6
        ld_pseudo r2, 1, 0
        r3 = 5
        r4 = r10
        r4 += -8
        r5 = 8
        call 25
        r0 <<= 8
        r0 |= r7
        exit""", session=session, maps=[events], prog_type=ProgType.KPROBE, ctx=KprobeContext())
    assert r.signed == -7 << 8                       # index 5 >= 2 CPUs: -E2BIG; the first: 0
    assert events.drain() == [(1, (0x42).to_bytes(8, "little"))]   # type: ignore[attr-defined]


def test_perf_event_output_appends_packet_bytes_for_xdp() -> None:
    session = Session()
    events = session.new_map("ev", MapType.PERF_EVENT_ARRAY, 4, 4, 2)
    run("""
        *(u32 *)(r10 - 4) = 7
        ld_pseudo r2, 1, 0
        r3 = 0x400000000 ll
        r4 = r10
        r4 += -4
        r5 = 4
        call 25
        exit""", session=session, maps=[events], prog_type=ProgType.XDP, ctx=XdpContext(bytes(range(20))))
    assert events.drain() == [(0, b"\x07\0\0\0" + bytes(range(4)))]   # type: ignore[attr-defined]


def test_snprintf_writes_and_truncates() -> None:
    r = run("""
        r1 = 0x6425 ll
        *(u64 *)(r10 - 8) = r1
        *(u64 *)(r10 - 16) = 123456
        r1 = r10
        r1 += -24
        r2 = 4
        r3 = r10
        r3 += -8
        r4 = r10
        r4 += -16
        r5 = 8
        call 165
        r1 = *(u32 *)(r10 - 24)
        r0 <<= 32
        r0 |= r1
        exit""")
    assert r.retval == (7 << 32) | int.from_bytes(b"123\0", "little")


def test_trace_vprintk_takes_an_argument_array() -> None:
    r = run("""
        r1 = 0x6425206425 ll
        *(u64 *)(r10 - 8) = r1
        *(u64 *)(r10 - 24) = 5
        *(u64 *)(r10 - 16) = -6
        r1 = r10
        r1 += -8
        r2 = 8
        r3 = r10
        r3 += -24
        r4 = 16
        call 177
        exit""")
    assert r.printk == ("5 -6",)
    assert r.retval == 4


def test_trace_printk_needs_a_nul_inside_fmt_size() -> None:
    r = run("r1 = 0x4141414141414141 ll\n*(u64 *)(r10 - 8) = r1\nr1 = r10\nr1 += -8\nr2 = 8\ncall 6\nexit")
    assert r.signed == -22 and r.printk == ()


def test_spin_lock_and_unlock_write_the_lock_word() -> None:
    session = Session()
    arr = session.new_map("a", MapType.ARRAY, 4, 8, 1)
    r = run("""
        ld_pseudo r1, 2, 0
        r6 = r1
        call 93
        r7 = *(u32 *)(r6 + 0)
        r1 = r6
        call 94
        r0 = *(u32 *)(r6 + 0)
        r0 <<= 8
        r0 |= r7
        exit""", session=session, maps=[arr])
    assert r.retval == 1


def test_map_lookup_percpu_elem() -> None:
    session = Session(nr_cpus=2)
    pa = session.new_map("pa", MapType.PERCPU_ARRAY, 4, 8, 1)
    pa.update(0, [(5).to_bytes(8, "little"), (9).to_bytes(8, "little")])
    r = run("""
        *(u32 *)(r10 - 4) = 0
        ld_pseudo r1, 1, 0
        r2 = r10
        r2 += -4
        r3 = 1
        call 195
        r0 = *(u64 *)(r0 + 0)
        exit""", session=session, maps=[pa])
    assert r.retval == 9


def test_redirect_for_xdp_and_tc() -> None:
    r = run("r1 = 7\nr2 = 0\ncall 23\nexit", prog_type=ProgType.XDP, ctx=XdpContext(bytes(14)))
    assert r.retval == 4 and r.redirect == ("ifindex", 7, 0)
    r = run("r1 = 7\nr2 = 1\ncall 23\nexit", prog_type=ProgType.XDP, ctx=XdpContext(bytes(14)))
    assert r.retval == 0                                  # flags: XDP_ABORTED
    r = run("r1 = 3\nr2 = 1\ncall 23\nexit", prog_type=ProgType.SCHED_CLS, ctx=SkbContext(bytes(14)))
    assert r.retval == 7 and r.redirect == ("ifindex", 3, 1)


def test_redirect_map_falls_back_to_the_flags_action() -> None:
    session = Session()
    devmap = session.new_map("dev", MapType.DEVMAP, 4, 4, 4)
    devmap.update(1, 5)
    text = "ld_pseudo r1, 1, 0\nr2 = {key}\nr3 = 2\ncall 51\nexit"
    r = run(text.format(key=1), session=session, maps=[devmap], prog_type=ProgType.XDP, ctx=XdpContext(bytes(14)))
    assert r.retval == 4 and r.redirect == ("map", "dev", 1)
    r = run(text.format(key=2), session=session, maps=[devmap], prog_type=ProgType.XDP, ctx=XdpContext(bytes(14)))
    assert r.retval == 2 and r.redirect is None


def test_packet_helpers_refuse_the_wrong_context() -> None:
    with pytest.raises(VMError, match="bpf_xdp_adjust_head needs an XDP context"):
        run("r2 = 4\ncall 44\nexit", prog_type=ProgType.SCHED_CLS, ctx=SkbContext(bytes(20)))


def test_skb_load_bytes_failure_zeroes_the_destination() -> None:
    r = run("""
        *(u64 *)(r10 - 8) = -1
        r2 = 10
        r3 = r10
        r3 += -8
        r4 = 8
        call 26
        r1 = *(u64 *)(r10 - 8)
        r0 |= r1
        exit""", prog_type=ProgType.SCHED_CLS, ctx=SkbContext(bytes(14)))
    assert r.signed == -14


def test_unemulated_helper_names_itself() -> None:
    with pytest.raises(NotEmulated, match=r"not emulated: helper bpf_tcp_sock#96$") as info:
        run("call 96\nexit")
    assert info.value.what == "helper bpf_tcp_sock#96" and info.value.pc == 0


def test_a_bad_pointer_to_a_helper_is_a_fault() -> None:
    session = Session()
    h = session.new_map("h", MapType.HASH, 4, 4, 1)
    with pytest.raises(VMError, match="invalid read of the key of 4 bytes"):
        run("ld_pseudo r1, 1, 0\nr2 = 8\ncall 1\nexit", session=session, maps=[h])
