"""Dynptrs in the emulator (bpfbuild/vm/dynptr.py): local memory, ring-buffer records and XDP
packets through the helpers and kfuncs, with the kernel's errors; the same programs under
BPF_PROG_TEST_RUN return the same values."""

from __future__ import annotations

import errno
import struct
from pathlib import Path

import pytest

from bpfbuild.isa import assemble
from bpfbuild.vm import load
from bpfbuild.vm.machine import Machine

from .kernelrun import kernel_retval

HERE = Path(__file__).resolve().parent / "dynptr"
_U32 = 0xFFFFFFFF

#: an IPv4/UDP frame of 64 bytes (EtherType 0x0800)
PACKET = bytes.fromhex("020000000002 020000000001 0800") + bytes(50)

#: each program's return value on PACKET, worked out by hand from the kernel's helpers
EXPECTED = {
    "local_read_write": 1100 + ord("c") + (ord("Y") << 8),
    "local_errors": 511,
    "ringbuf_records": 62,
    "packet_slices": 64 + (0x08 << 16) + 0x7000,
    "packet_slice_rdwr": 2,
    # tc: the whole frame, writable, starts with the MAC address's 0x02; socket filter: from
    # the IPv4 header (0x00 here), read-only
    "tc_skb_dynptr": 64 + (0x02 << 16) + 0x1000 + 0x4000,
    "socket_skb_dynptr": 50 + 0x100 + 0x1000 + 0x2000 + 0x4000,   # read-only: -EINVAL before flags
}


@pytest.fixture(scope="module")
def dynptr_obj(compile_bpf) -> Path:
    return compile_bpf(HERE / "dynptr.bpf.c")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dynptr_programs_return_what_the_kernel_helpers_give(dynptr_obj: Path, name: str) -> None:
    obj = load(dynptr_obj)
    assert obj.run(name, packet=PACKET).retval & _U32 == EXPECTED[name]


def test_a_submitted_ringbuf_dynptr_is_a_record_and_a_discarded_one_is_not(dynptr_obj: Path) -> None:
    obj = load(dynptr_obj)
    obj.run("ringbuf_records", packet=PACKET)
    records = obj.machine.session.maps["events"].pending()
    assert records == [struct.pack("<QI", 0x1122334455667788, 0xABCD) + bytes(4)]


def test_slices_and_writes_through_an_xdp_dynptr_change_the_packet(dynptr_obj: Path) -> None:
    obj = load(dynptr_obj)
    assert obj.run("packet_slices", packet=PACKET).packet == PACKET[:1] + b"\x77" + PACKET[2:]
    assert obj.run("packet_slice_rdwr", packet=PACKET).packet == b"\xee" + PACKET[1:]


def test_a_tc_program_writes_through_its_skb_dynptr_and_a_socket_filter_cannot(dynptr_obj: Path) -> None:
    obj = load(dynptr_obj)
    assert obj.run("tc_skb_dynptr", packet=PACKET).packet == b"\x46" + PACKET[1:]
    assert obj.run("socket_skb_dynptr", packet=PACKET).packet == bytes(14) + PACKET[14:]


def _from_mem(size: int, tail: str) -> tuple[Machine, object]:
    """bpf_dynptr_from_mem(&stack[-32], size, 0, &stack[-16]), then ``tail``."""
    text = f"""
        r1 = r10
        r1 += -32
        r2 = {size}
        r3 = 0
        r4 = r10
        r4 += -16
        call 197
        {tail}
    """
    machine = Machine()
    return machine, machine.load(assemble(text), prog_type=6)


def test_the_dynptr_on_the_stack_holds_the_kernels_size_type_and_offset_words() -> None:
    machine, prog = _from_mem(8, "r0 = *(u32 *)(r10 - 8)\nexit")          # the size word
    assert machine.run(prog, packet=PACKET).retval == 8 | 1 << 28     # size 8, BPF_DYNPTR_TYPE_LOCAL


def test_from_mem_refuses_sizes_past_16_mib_with_a_null_dynptr() -> None:
    machine, prog = _from_mem(0x1000000, """
        r6 = *(u64 *)(r10 - 16)
        r7 = *(u64 *)(r10 - 8)
        r6 |= r7
        if r6 != 0 goto bad
        exit
    bad:
        r0 = 1
        exit
    """)
    assert machine.run(prog, packet=PACKET).signed == -errno.E2BIG


@pytest.mark.kernel
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_kernel_returns_the_same(dynptr_obj: Path, name: str, requires_kernel) -> None:
    got = kernel_retval(dynptr_obj, name, PACKET)
    assert got == EXPECTED[name] == load(dynptr_obj).run(name, packet=PACKET).retval & _U32
