"""The Python API (bpfbuild.vm.load) on the programs of programs/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.btf.spec import Spec
from bpfbuild.errors import SpecError, VMError
from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm import SkbContext, build_packet, load, make_context, retval_text
from bpfbuild.vm.context import ArgsContext, KprobeContext, XdpContext

UDP9 = {"eth": {}, "ipv4": {}, "udp": {"dport": 9}}


def test_hello_repeat_counts_and_prints(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["hello"])
    assert obj.programs == ("hello",) and obj.globals.counter == 0
    result = obj.run(repeat=3)
    assert result.printk == ("Hello World 0", "Hello World 1", "Hello World 2")
    assert result.retval == 2 and retval_text(result, obj.program_type()) == "XDP_PASS (2)"
    assert result.steps == 30 and obj.globals.counter == 3
    assert obj.printk == ["Hello World 0", "Hello World 1", "Hello World 2"]
    assert result.exit_program == "hello" and result.exit_location is not None
    assert result.exit_location.file.endswith("hello.bpf.c") and result.exit_location.line == 11


def test_hello_func_prints_args_1(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["hello-func"])
    result = obj.run(args=[0, 59])
    assert (result.retval, result.printk) == (0, ("Syscall: 59",))
    with pytest.raises(VMError, match="past the end of ctx bpf_raw_tracepoint_args"):
        obj.run(args=[0])


def test_rodata_set_before_running_changes_what_is_dropped(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["tc_port_filter"])
    assert obj.run(packet=UDP9).retval == 2 and obj.globals.dropped == 1
    obj.globals.blocked_port = 53
    assert obj.run(packet=UDP9).retval == 0
    assert obj.run(packet={"eth": {}, "ipv4": {}, "udp": {"dport": 53}}).retval == 2
    assert obj.globals.as_dict() == {"blocked_port": 53, "dropped": 2}


def test_maps_are_typed(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["xdp_proto_count"])
    counts = obj.maps.proto_count
    counts[6] = 10
    obj.run(packet={"eth": {}, "ipv4": {}, "tcp": {}})
    obj.run(packet=build_packet({"eth": {}, "ipv6": {}, "icmpv6": {}}))
    assert counts[6] == 11 and counts.get(58) == 1 and counts.get(17) is None
    assert sorted(counts.items()) == [(6, 11), (58, 1)] and len(counts) == 2 and 6 in counts
    del counts[6]
    assert counts.keys() == [58]
    assert obj.maps["proto_count"] is counts and "proto_count" in obj.maps
    with pytest.raises(AttributeError, match="no map 'nope'"):
        _ = obj.maps.nope


def test_program_arrays_take_program_names(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["xdp_tail_call"])
    assert obj.run("xdp_dispatch", packet=UDP9).retval == 2
    obj.maps.handlers[17] = "xdp_udp_handler"
    result = obj.run("xdp_dispatch", packet=UDP9)
    assert result.retval == 1 and result.exit_program == "xdp_udp_handler"
    assert obj.maps.handlers.items() == [(17, "xdp_udp_handler")]
    assert obj.globals.udp_seen == 1
    with pytest.raises(SpecError, match="no program 'nope'"):
        obj.maps.handlers[6] = "nope"


def test_ring_buffer_records_and_world(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["exec_events"], pid=11, tgid=10, uid=5, comm="curl")
    obj.run(repeat=2)
    assert obj.maps.events.records("u32 pid; u32 uid; char comm[16]", drain=False) == [
        {"pid": 10, "uid": 5, "comm": "curl"}] * 2
    raw = obj.maps.events.records()
    assert len(raw) == 2 and raw[0][:8] == bytes.fromhex("0a00000005000000")
    assert obj.maps.events.records() == []    # drained


def test_core_task_reads_kernel_memory_by_btf(program_objects: dict[str, Path]) -> None:
    from bpfbuild.vm.typed import btf_type_named

    spec = load_object_file(program_objects["core_task"])
    # kernel memory follows the BTF the CO-RE offsets were relocated against (else the object's own)
    layout = Spec.from_file(spec.core.btf) if spec.core is not None and spec.core.btf else spec.btf
    task = btf_type_named(layout, "struct task_struct")
    me, parent = 0xFFFF888000A00000, 0xFFFF888000B00000
    obj = load(spec, tgid=9, current_task=me,
               kernel_memory={me: task.encode({"tgid": 9, "real_parent": parent}), parent: task.encode({"tgid": 3})})
    obj.globals.target_tgid = 9
    obj.run()
    assert (obj.globals.parent_tgid, obj.globals.calls) == (3, 1)


def test_contexts_from_fields() -> None:
    xdp = make_context(ProgType.XDP, packet="00" * 14, fields={"ingress_ifindex": 3, "meta": "0102"})
    assert xdp == XdpContext(bytes(14), ingress_ifindex=3, meta=b"\x01\x02")
    skb = make_context(ProgType.SCHED_CLS, packet=UDP9, fields={"mark": 7, "cb": [1, 2]})
    assert isinstance(skb, SkbContext) and skb.mark == 7 and skb.cb == (1, 2, 0, 0, 0)
    assert make_context(ProgType.RAW_TRACEPOINT, args=[1, 2]) == ArgsContext((1, 2))
    kp = make_context(ProgType.KPROBE, args=[5], fields={"rax": 9})
    assert isinstance(kp, KprobeContext) and kp.regs == {"rdi": 5, "rax": 9}
    with pytest.raises(SpecError, match="XdpContext has no field 'mark'"):
        make_context(ProgType.XDP, fields={"mark": 1})
    with pytest.raises(SpecError, match="args must be a list of integers"):
        make_context(ProgType.RAW_TRACEPOINT, args=["x"])  # type: ignore[list-item]


def test_bad_inputs_are_errors(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["hello"])
    with pytest.raises(SpecError, match="repeat must be a positive integer"):
        obj.run(repeat=0)
    with pytest.raises(VMError, match="no program 'x'"):
        obj.run("x")
    with pytest.raises(SpecError, match="unknown session input"):
        load(program_objects["hello"], nonsense=1)
    with pytest.raises(SpecError, match="packet is not hex"):
        obj.run(packet="zz")


def test_two_loads_do_not_share_state(program_objects: dict[str, Path]) -> None:
    a, b = load(program_objects["hello"]), load(program_objects["hello"])
    a.run(repeat=2)
    assert (a.globals.counter, b.globals.counter) == (2, 0)
