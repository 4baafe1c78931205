"""The per-program work of a verification outside the path walk (verifier/cfg.py, api.py):
the shortcuts taken there give what the general path gives."""

from __future__ import annotations

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa.instruction import Instruction
from bpfbuild.obj.spec import MapSpec
from bpfbuild.verifier import map_infos, verify_insns


def _live_regs(log: str) -> list[str]:
    """The register masks of the log's "Live regs before insn" lines, by instruction."""
    return [line.split()[1] for line in log.splitlines() if line.startswith("    ") and ": " in line]


# r1 = 1; r2 = 2; call bpf_get_cgroup_classid; call bpf_get_cgroup_classid; r0 = 0; exit
_CLASSID_TWICE = [Instruction(0xB7, 1, 0, 0, 1), Instruction(0xB7, 2, 0, 0, 2), Instruction(0x85, 0, 0, 0, 17),
                  Instruction(0xB7, 1, 0, 0, 1), Instruction(0x85, 0, 0, 0, 17), Instruction(0xB7, 0, 0, 0, 0),
                  Instruction(0x95)]


def test_a_helper_reads_the_arguments_of_its_program_type():
    # bpf_get_cgroup_classid takes the skb in tc programs and nothing elsewhere: what a call
    # reads is kept per helper *and* program type, and a helper called twice reads the same
    tc = _live_regs(verify_insns(_CLASSID_TWICE, ProgType.SCHED_CLS, log_level=2).log)
    xdp = _live_regs(verify_insns(_CLASSID_TWICE, ProgType.XDP, log_level=2).log)
    tc_again = _live_regs(verify_insns(_CLASSID_TWICE, ProgType.SCHED_CLS, log_level=2).log)
    none, r1, r0 = "..........", ".1........", "0........."
    assert tc == tc_again == [none, r1, r1, none, r1, none, r0]
    assert xdp == [none] * 6 + [r0]


def test_map_infos_compare_and_hash_by_value():
    spec = MapSpec(name="counts", type=2, key_size=4, value_size=8, max_entries=16)
    first, again = map_infos([spec])[0], map_infos([spec])[0]
    assert first is not again
    assert first == again and hash(first) == hash(again)
    assert len({first, again}) == 1
    other = map_infos([MapSpec(name="counts", type=2, key_size=4, value_size=8, max_entries=32)])[0]
    assert other != first
